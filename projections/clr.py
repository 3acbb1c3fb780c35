"""The learner record as a CLR 2.0 ClrCredential holding OB 3.0 AchievementCredentials, signed.

Held credentials are issued once (see `projections.issued`) and reused by every export
while their content and the signing key stay the same; each keeps, beside its proof, the
RDF it contributes to a ClrCredential, so the outer Data Integrity proof canonicalises
the whole from those parts instead of expanding every held credential again.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials import dataintegrity
from credentials.identity import Issuance
from credentials.jwt import sign_jwt
from credentials.quads import Quad, canonicalize_parts, quads_of
from credentials.statuslist import StatusLists
from projections.learner_record import skills_of
from schemas.times import utc_seconds

V2: Final = "https://www.w3.org/ns/credentials/v2"
CLR: Final = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# The ClrCredential's contexts, in order; a held credential's RDF part is computed under them.
CLR_CONTEXT: Final = (V2, CLR, OB)
LEDGER_NAME: Final = "Lifelong Learner Ledger"
# Names the ledger's deterministic credential ids (uuid5), so a re-export keeps its ids.
ID_NAMESPACE: Final = uuid.UUID("6f1d3c52-8a7e-4b0f-9d2a-3c5e7b1a9f40")
LEFT_OUT: Final = frozenset({"revoked", "retracted"})
# OB 3.0 AlignmentTargetType per skill framework; CASE items are the default the spec names.
TARGET_TYPES: Final = {"CTDL": "ceasn:Competency"}


def learner_uri(learner: str) -> str:
    """The learner's subject id in exported credentials (the ledger id, pseudonymous)."""
    return f"urn:lll:learner:{quote(learner, safe='')}"


def rfc3339(partial: str, *, end: bool = False) -> str:
    """An RFC 3339 UTC instant for a partial date (YYYY, YYYY-MM or YYYY-MM-DD).

    Args:
        partial: the date as precise as the issuer knew it.
        end: the first instant after the period instead of its first day ("2029" → 2030-01-01),
            so that an expiry year stays valid all year, as `credential_status` judges it.
    """
    parts = [int(p) for p in partial.split("-")]
    year, month, day = [*parts, 1, 1][:3]
    if end:
        if len(parts) == 1:
            year += 1
        elif len(parts) == 2:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        else:
            following = date(year, month, day) + timedelta(days=1)
            year, month, day = following.year, following.month, following.day
    return f"{year:04d}-{month:02d}-{day:02d}T00:00:00Z"


def _profile(issuer_did: str) -> dict[str, Any]:
    return {"id": issuer_did, "type": ["Profile"], "name": LEDGER_NAME}


def achievement_id(issuer: str, achievement: str) -> str:
    """The exported id of an issuer's achievement (the same in every export)."""
    return f"urn:lll:achievement:{quote(issuer, safe='')}:{quote(achievement, safe='')}"


def associations(exported: set[str], pathways: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`isPartOf` links from each exported component achievement (by exported id) to its
    pathway's target achievement."""
    links: dict[tuple[str, str], dict[str, Any]] = {}
    for pathway in pathways:
        issuer, target = str(pathway["issuer"]), str(pathway["target"]["achievementId"])
        for component in pathway.get("components") or ():
            source = achievement_id(issuer, str(component["achievementId"]))
            if source in exported:
                goal = achievement_id(issuer, target)
                links[(source, goal)] = {
                    "type": "Association",
                    "associationType": "isPartOf",
                    "sourceId": source,
                    "targetId": goal,
                }
    return [links[k] for k in sorted(links)]


def _achievement(item: Mapping[str, Any]) -> dict[str, Any]:
    data: Mapping[str, Any] = item["data"]
    issuer, source = str(item["issuer"]), str(item["ref"]["source"])
    achievement: dict[str, Any] = {
        "id": achievement_id(issuer, str(data["achievementId"])),
        "type": ["Achievement"],
        "name": data["title"],
        "description": data.get("description") or data["title"],
        "criteria": {"narrative": data.get("criteria") or "Awarded by the issuer."},
        "creator": {"id": source, "type": ["Profile"], "name": issuer},
    }
    if data.get("achievementType"):
        achievement["achievementType"] = data["achievementType"]
    alignment = [
        {
            "type": ["Alignment"],
            "targetName": skill["name"],
            "targetUrl": skill["uri"],
            "targetType": TARGET_TYPES.get(str(skill.get("framework")), "CFItem"),
            **({"targetFramework": skill["framework"]} if skill.get("framework") else {}),
            **({"targetCode": skill["code"]} if skill.get("code") else {}),
        }
        for skill in skills_of(dict(data))
        if skill.get("uri")
    ]
    if alignment:
        achievement["alignment"] = alignment
    return achievement


def _result(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    result = data.get("result")
    if not isinstance(result, Mapping) or result.get("value") is None:
        return []
    entry: dict[str, Any] = {"type": ["Result"], "value": str(result["value"])}
    if result.get("passed") is True:
        entry["status"] = "Completed"
    return [entry]


def achievement_credential(
    item: Mapping[str, Any],
    *,
    learner: str,
    issuer_did: str,
    status: StatusLists | None = None,
) -> dict[str, Any]:
    """An unsigned OB 3.0 AchievementCredential for one credential item of a learner record.

    The ledger is the issuer (it re-issues what it recorded and signs it); the original
    issuer is the achievement's `creator`, named by its CloudEvents source. With
    ``status``, its ``credentialStatus`` is the revocation entry of the log position that
    issued it (the same in every export, and found again by a rebuild).
    """
    data: Mapping[str, Any] = item["data"]
    name = f"{issuer_did}|{item['issuer']}|{data['credentialId']}|{learner}"
    subject: dict[str, Any] = {
        "id": learner_uri(learner),
        "type": ["AchievementSubject"],
        "achievement": _achievement(item),
    }
    result = _result(data)
    if result:
        subject["result"] = result
    credential: dict[str, Any] = {
        "@context": [V2, OB],
        "id": f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, name)}",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": _profile(issuer_did),
        "name": data["title"],
        "validFrom": rfc3339(str(data["issuedOn"])),
        "credentialSubject": subject,
    }
    if data.get("expiresOn"):
        credential["validUntil"] = rfc3339(str(data["expiresOn"]), end=True)
    if status is not None:
        credential["credentialStatus"] = status.entry(int(item["ref"]["position"]))
    return credential


def exported_items(record: Mapping[str, Any], scope: set[str] | None) -> list[Mapping[str, Any]]:
    """The record's credential items an export holds: not revoked or retracted, within scope."""
    return [
        item
        for item in record.get("credentials", ())
        if item["status"] not in LEFT_OUT
        and (scope is None or item["data"].get("credentialId") in scope)
    ]


def build_clr(
    record: dict[str, Any],
    *,
    issuer_did: str,
    issued_at: str,
    scope: set[str] | None = None,
    inner: list[dict[str, Any]] | None = None,
    pathways: Iterable[Mapping[str, Any]] = (),
    credential_id: str | None = None,
    status: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An unsigned CLR 2.0 ClrCredential of a learner record's credentials.

    One OB 3.0 AchievementCredential per credential item; revoked and retracted credentials
    are left out (a CLR states what stands), expired ones are kept with their `validUntil`
    (they are history, and a verifier judges the period). `association` links each
    exported pathway component to the pathway's target achievement (`isPartOf`).

    Args:
        record: a learner-record document (not a tombstone).
        issuer_did: the ledger's DID (`did:key:…`), issuer of every credential.
        issued_at: RFC 3339 UTC time of the export, the ClrCredential's `validFrom`.
        scope: credentialIds to export (default: all that stand).
        inner: the AchievementCredentials to hold, already signed (default: built unsigned
            from the record by `achievement_credential`).
        pathways: pathway definitions (see `projections.pathways`), for `association`.
        credential_id: its ``id`` (default: a new ``urn:uuid``).
        status: its ``credentialStatus`` entry, if any.
    """
    learner = str(record["learner"])
    if inner is None:
        inner = [
            achievement_credential(item, learner=learner, issuer_did=issuer_did)
            for item in exported_items(record, scope)
        ]
    clr: dict[str, Any] = {
        "@context": list(CLR_CONTEXT),
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": _profile(issuer_did),
        "name": "Comprehensive Learner Record",
        "description": f"Credentials recorded for learner {learner} by the {LEDGER_NAME}.",
        "validFrom": issued_at,
        "credentialSubject": {
            "id": learner_uri(learner),
            "type": ["ClrSubject"],
            "verifiableCredential": inner,
            "achievement": [c["credentialSubject"]["achievement"] for c in inner],
            "association": associations(
                {str(c["credentialSubject"]["achievement"]["id"]) for c in inner}, pathways
            ),
        },
    }
    if status is not None:
        clr["credentialStatus"] = dict(status)
    return clr


def issuance_digest(unsigned: Mapping[str, Any], verification_method: str) -> str:
    """What a held credential is signed from: SHA-256 of the unsigned credential (JSON, keys
    sorted) and the signing key's verification method. An issuer's correction changes the
    first, a new key the second; either way the stored signature no longer stands."""
    body = orjson.dumps(unsigned, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body + b"\n" + verification_method.encode("utf-8")).hexdigest()


def clr_part(credential: Mapping[str, Any]) -> list[Quad]:
    """The RDF quads a signed AchievementCredential contributes to a ClrCredential holding
    it (see `build_clr`): itself under the ClrSubject's `verifiableCredential` (CLR 2.0 maps
    it to a plain property, so its quads join the default graph; its proof is a named
    graph) and a copy of its achievement under `achievement`.

    Raises:
        CanonicalizationError: the credential is not valid JSON-LD or has undefined terms.
    """
    subject = credential["credentialSubject"]
    return quads_of(
        {
            "@context": list(CLR_CONTEXT),
            "id": subject["id"],
            "type": ["ClrSubject"],
            "verifiableCredential": [credential],
            "achievement": [subject["achievement"]],
        }
    )


def issue(
    unsigned: Mapping[str, Any],
    key: Ed25519PrivateKey,
    verification_method: str,
    *,
    now: datetime,
    with_part: bool = True,
) -> dict[str, Any]:
    """Sign one AchievementCredential: ``{"digest", "credential", "rdf"}`` (``rdf``, its
    `clr_part` as JSON text, only ``with_part``), the entry `sign_export` reuses.

    The part is kept as text: a read-model document holding a learner's credentials is
    decoded on every export, and a string costs its decoder next to nothing where
    thousands of small lists do not; only a Data Integrity export reads it (`part_of`).

    Raises:
        CanonicalizationError: the credential is not valid JSON-LD or has undefined terms.
    """
    signed = dataintegrity.sign(unsigned, key, verification_method, created=now)
    entry: dict[str, Any] = {
        "digest": issuance_digest(unsigned, verification_method),
        "credential": signed,
    }
    if with_part:
        entry["rdf"] = orjson.dumps(clr_part(signed)).decode()
    return entry


def part_of(entry: Mapping[str, Any]) -> list[Quad]:
    """The `clr_part` an issued entry keeps (as JSON text; as quads in entries stored before)."""
    rdf = entry["rdf"]
    quads: list[Quad] = orjson.loads(rdf) if isinstance(rdf, str) else rdf
    return quads


def canonical_clr(clr: Mapping[str, Any], parts: Sequence[Sequence[Quad] | str]) -> str | None:
    """The canonical N-Quads of a ClrCredential made by `build_clr`, from the `clr_part` of
    each held credential (in order) and the rest of the document; ``None`` when the
    document is not shaped as `build_clr` makes it (then canonicalise it whole).

    Raises:
        CanonicalizationError: the rest of the document has undefined terms.
    """
    subject = clr.get("credentialSubject")
    if not isinstance(subject, Mapping) or clr.get("@context") != list(CLR_CONTEXT):
        return None
    held = subject.get("verifiableCredential")
    if (
        subject.get("type") != ["ClrSubject"]
        or not isinstance(held, list)
        or len(held) != len(parts)
        or subject.get("achievement") != [c["credentialSubject"]["achievement"] for c in held]
        or any(c["credentialSubject"]["id"] != subject.get("id") for c in held)
    ):
        return None
    rest = {
        **clr,
        "credentialSubject": {
            k: v for k, v in subject.items() if k not in ("verifiableCredential", "achievement")
        },
    }
    return canonicalize_parts([quads_of(rest), *parts])


def sign_export(
    record: dict[str, Any],
    items: list[Mapping[str, Any]],
    *,
    learner: str,
    issuance: Issuance,
    fmt: str,
    now: datetime,
    pathways: Iterable[Mapping[str, Any]] = (),
    issued: Mapping[str, Mapping[str, Any]] | None = None,
    credential_id: str | None = None,
    slot_position: int | None = None,
) -> tuple[bytes, int]:
    """Sign ``items`` of ``record`` as AchievementCredentials inside a signed ClrCredential.

    Args:
        fmt: ``"di"`` (the outer credential with an eddsa-rdfc-2022 proof, JSON) or
            ``"jwt"`` (the outer credential as an EdDSA VC-JWT); inner credentials always
            carry Data Integrity proofs.
        now: the issuance time (whole seconds).
        issued: credentials issued before, by `issuance_digest` (the ``issued`` map of an
            `projections.issued` document); one whose digest is there is reused, any other
            is signed now (the projection lags, or the key or the content changed).
        credential_id: the ClrCredential's ``id`` (default: a new ``urn:uuid``).
        slot_position: the log position that reserved the ClrCredential's own status slot
            (with ``issuance.status``; default: no ``credentialStatus`` of its own).

    Returns:
        The file's bytes and how many credentials it holds.
    """
    key, did, method, status = (
        issuance.identity.key,
        issuance.identity.did,
        issuance.identity.method,
        issuance.status,
    )
    entries = []
    for item in items:
        unsigned = achievement_credential(item, learner=learner, issuer_did=did, status=status)
        entry = (issued or {}).get(issuance_digest(unsigned, method))
        if entry is None or (fmt == "di" and "rdf" not in entry):
            entry = issue(unsigned, key, method, now=now, with_part=fmt == "di")
        entries.append(entry)
    inner = [e["credential"] for e in entries]
    clr = build_clr(
        record,
        issuer_did=did,
        issued_at=utc_seconds(now),
        inner=inner,
        pathways=pathways,
        credential_id=credential_id,
        status=status.entry(slot_position) if status and slot_position is not None else None,
    )
    if fmt == "jwt":
        return (sign_jwt(clr, key, kid=method) + "\n").encode("ascii"), len(inner)
    canonical = canonical_clr(clr, [e["rdf"] for e in entries])
    signed = dataintegrity.sign(clr, key, method, created=now, canonical=canonical)
    return orjson.dumps(signed, option=orjson.OPT_INDENT_2), len(inner)
