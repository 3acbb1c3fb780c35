"""Strategies of the ``data`` of credential events, embedded Open Badges 3.0 / CLR 2.0 included."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

import orjson
from hypothesis import strategies as st

from tests.strategies.base import (
    Data,
    Strategy,
    date_times,
    local_ids,
    ordered_partial_dates,
    partial_dates,
    person_names,
    pick,
    record,
    sentences,
    small_lists,
)
from tests.strategies.defs import (
    credits,
    levels,
    organisations,
    own_organisation,
    skill_refs,
    titles,
)
from tests.strategies.issuers import DataFactory, Issuer

KINDS = ("micro-credential", "badge", "certificate", "licence", "diploma", "degree", "other")
# (slug, title, kind, Open Badges achievementType) of the achievements issuers award.
ACHIEVEMENTS = (
    ("sql-foundations", "SQL Foundations", "micro-credential", "MicroCredential"),
    ("cert-data-analytics", "Certificate in Data Analytics", "certificate", "Certificate"),
    ("infection-prevention", "Infection Prevention Badge", "badge", "Badge"),
    ("bsc-nursing", "BSc (Hons) Nursing", "degree", "BachelorDegree"),
    ("elektrofachkraft", "Elektrofachkraft", "licence", "License"),
    ("des-gestion", "Diplôme d'études supérieures", "diploma", "Diploma"),
    ("volunteer-award", "Community Volunteer Award", "other", "ext:VolunteerAward"),
)
OB3_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
CLR2_CONTEXT = [*OB3_CONTEXT[:1], "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"]


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _credential(
    issuer: Issuer, title: str, achievement: str, holder: str, valid_from: str, uid: UUID, clr: bool
) -> dict[str, Any]:
    """A VC 2.0 Open Badges (or CLR) credential shaped as 1EdTech's samples are."""
    achievement_obj = {
        "id": f"{issuer.source}/achievements/{achievement}",
        "type": ["Achievement"],
        "name": title,
        "criteria": {"narrative": "Passed every assessed component."},
    }
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "name": holder,
        "achievement": achievement_obj,
    }
    if clr:
        subject = {"type": ["ClrSubject"], "name": holder, "achievement": [achievement_obj]}
    return {
        "@context": CLR2_CONTEXT if clr else OB3_CONTEXT,
        "id": f"urn:uuid:{uid}",
        "type": ["VerifiableCredential", "ClrCredential" if clr else "OpenBadgeCredential"],
        "issuer": {"id": issuer.source, "type": ["Profile"], "name": issuer.name},
        "validFrom": valid_from,
        "name": title,
        "credentialSubject": subject,
    }


def _jws(payload: dict[str, Any], signature: bytes) -> str:
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": "did:web:issuer.example#key-1"}
    return ".".join(
        (_b64url(orjson.dumps(header)), _b64url(orjson.dumps(payload)), _b64url(signature))
    )


def embedded(issuer: Issuer, title: str, achievement: str) -> Strategy[Data]:
    """The signed credential as the issuer sent it: JSON or a compact JWS."""

    def build(fmt: str, holder: str, valid_from: str, uid: UUID, signature: bytes) -> Data:
        vc = _credential(issuer, title, achievement, holder, valid_from, uid, fmt.startswith("clr"))
        return {"format": fmt, "credential": _jws(vc, signature) if fmt.endswith("-jwt") else vc}

    return st.builds(
        build,
        st.sampled_from(("ob3-json", "ob3-jwt", "clr2-json", "clr2-jwt")),
        person_names(),
        date_times(),
        st.uuids(),
        st.binary(min_size=64, max_size=64),
    )


def issued(issuer: Issuer) -> Strategy[Data]:
    return st.tuples(st.sampled_from(ACHIEVEMENTS), ordered_partial_dates(2)).flatmap(
        lambda drawn: _issued(issuer, *drawn[0], dates=drawn[1])
    )


def _issued(
    issuer: Issuer, slug: str, title: str, kind: str, ob3_type: str, dates: list[str]
) -> Strategy[Data]:
    achievement = f"{issuer.id}-{slug}"
    return record(
        {
            "credentialId": local_ids("CRED-"),
            "achievementId": st.just(achievement),
            "kind": st.just(kind),
            "title": st.one_of(st.just(title), titles((title,))),
            "issuedOn": st.just(dates[0]),
        },
        {
            "description": pick(("Awarded on completing the programme.",), 400),
            "expiresOn": st.just(dates[1]),
            "level": levels(),
            "credits": credits(),
            "skills": small_lists(skill_refs()),
            "achievementType": st.just(ob3_type),
            "criteria": pick(("Pass every module and the capstone.",), 400),
            "embedded": embedded(issuer, title, achievement),
        },
    )


REVOCATIONS = (
    "Academic misconduct finding against {name}",
    "Issued to the wrong learner",
    "Licence suspended by the regulator",
)


def revoked(issuer: Issuer) -> Strategy[Data]:
    return record(
        {
            "credentialId": local_ids("CRED-"),
            "reason": sentences(REVOCATIONS),
            "revokedOn": partial_dates(),
        }
    )


CLAIMS = (
    "Meets the guild's practice standard.",
    "{name}'s credential is recognised for chartered status.",
)


def endorsed(issuer: Issuer) -> Strategy[Data]:
    return record(
        {
            "credentialId": local_ids("CRED-"),
            "endorser": st.one_of(organisations(), own_organisation(issuer)),
            "endorsedOn": partial_dates(),
        },
        {"claim": sentences(CLAIMS)},
    )


def _component(issuer: Issuer, index: int, required: bool) -> Strategy[Data]:
    return record(
        {
            "achievementId": st.just(f"{issuer.id}-mc-{index}"),
            "title": titles(tuple(a[1] for a in ACHIEVEMENTS)),
            "required": st.just(required),
        },
        {"kind": st.sampled_from(KINDS)},
    )


def pathway_defined(issuer: Issuer) -> Strategy[Data]:
    """A stack of components with distinct achievements; minimumOptional is attainable."""
    flags = st.lists(st.booleans(), min_size=1, max_size=6)
    return flags.flatmap(
        lambda required: record(
            {
                "pathwayId": local_ids("PW-"),
                "title": titles(("Certificate in Data Analytics pathway", "Weg zum Meister")),
                "target": record(
                    {
                        "achievementId": st.just(f"{issuer.id}-certificate"),
                        "title": titles(("Certificate in Data Analytics",)),
                    },
                    {"kind": st.sampled_from(KINDS)},
                ),
                "components": st.tuples(
                    *(_component(issuer, i, r) for i, r in enumerate(required))
                ).map(list),
            },
            {
                "description": pick(("Three core and one elective micro-credential.",), 400),
                "minimumOptional": st.integers(0, required.count(False)),
            },
        )
    )


DATA: dict[str, DataFactory] = {
    "org.lll.credentials.issued.v1": issued,
    "org.lll.credentials.revoked.v1": revoked,
    "org.lll.credentials.endorsed.v1": endorsed,
    "org.lll.credentials.pathway-defined.v1": pathway_defined,
}
