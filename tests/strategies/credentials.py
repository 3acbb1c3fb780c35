"""Strategies of the ``data`` of credential events, embedded Open Badges 3.0 / CLR 2.0 included."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st

from credentials import dataintegrity
from credentials.jwt import sign_jwt
from credentials.keys import did_key_of
from ledger.registry import IssuerRegistry
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


def _credential(
    issuer: Issuer,
    title: str,
    achievement: str,
    holder: str,
    valid_from: str,
    uid: UUID,
    clr: bool,
    nested: list[Any] | None = None,
) -> dict[str, Any]:
    """A VC 2.0 Open Badges (or CLR, holding the `nested` credentials) credential shaped as
    1EdTech's samples are."""
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
        subject = {"type": ["ClrSubject"], "name": holder, "verifiableCredential": nested or []}
    return {
        "@context": CLR2_CONTEXT if clr else OB3_CONTEXT,
        "id": f"urn:uuid:{uid}",
        "type": ["VerifiableCredential", "ClrCredential" if clr else "OpenBadgeCredential"],
        "issuer": {"id": issuer_did(issuer), "type": ["Profile"], "name": issuer.name},
        "validFrom": valid_from,
        "name": title,
        "credentialSubject": subject,
    }


SIGNED_AT = datetime(2025, 1, 1, tzinfo=UTC)


def signing_key(issuer: Issuer) -> Ed25519PrivateKey:
    """The issuer's Ed25519 key, derived from its id so that examples replay identically."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(issuer.id.encode()).digest())


def issuer_did(issuer: Issuer) -> str:
    """The DID the issuer signs its credentials as (the did:key of ``signing_key``), which
    the tests register for it."""
    return did_key_of(signing_key(issuer)).partition("#")[0]


def register_issuers(registry: IssuerRegistry, issuers: Iterable[Issuer]) -> None:
    """Register ``issuers`` as the ledger needs them to accept what the strategies make:
    their sources, their types, and the DID each signs its embedded credentials as."""
    for issuer in issuers:
        registry.register(
            issuer.id,
            name=issuer.id.title(),
            source=issuer.source,
            kind=issuer.kind,
            types=sorted(issuer.types),
            dids=[issuer_did(issuer)],
        )


def embedded(issuer: Issuer, title: str, achievement: str) -> Strategy[Data]:
    """The signed credential as the issuer sent it: JSON with an eddsa-rdfc-2022 proof, or a
    VC-JWT; really signed by the issuer's did:key (the ledger verifies it on ingest), valid
    from a moment already past."""

    def build(fmt: str, holder: str, valid_from: str, uid: UUID, embed_jwk: bool) -> Data:
        key, method = signing_key(issuer), did_key_of(signing_key(issuer))
        jwt = fmt.endswith("-jwt")
        kid = None if embed_jwk else method

        def signed(vc: dict[str, Any]) -> Any:
            if jwt:
                return sign_jwt(vc, key, kid=kid, embed_jwk=embed_jwk)
            return dataintegrity.sign(vc, key, method, created=SIGNED_AT)

        badge = _credential(issuer, title, achievement, holder, valid_from, uid, clr=False)
        if not fmt.startswith("clr"):
            return {"format": fmt, "credential": signed(badge)}
        clr_id = UUID(int=uid.int ^ 1)
        clr = _credential(
            issuer, title, achievement, holder, valid_from, clr_id, True, [signed(badge)]
        )
        return {"format": fmt, "credential": signed(clr)}

    return st.builds(
        build,
        st.sampled_from(("ob3-json", "ob3-jwt", "clr2-json", "clr2-jwt")),
        person_names(),
        date_times(2000, 2024),
        st.uuids(),
        st.booleans(),
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
