"""Request and response bodies of the HTTP API (its OpenAPI description is built from these)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

LocalId = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
Uri = Field(min_length=1, max_length=2048, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
Category = Literal["learning", "work", "credentials", "skills"]


class Camel(BaseModel):
    """Fields named in camelCase on the wire, as in the events and the CLI's JSON."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Strict(Camel):
    """A request body: an unknown field is an error, not silently ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# -- issuers ---------------------------------------------------------------------------


class Problem(BaseModel):
    path: str = Field(description="the event field at fault (dotted), empty for the whole event")
    rule: str = Field(description="the rule it breaks, e.g. enum, matches-channel, max-size")
    message: str


class EventResult(BaseModel):
    index: int = Field(description="the event's place in the request, from 0")
    status: Literal["accepted", "duplicate", "rejected"]
    position: int | None = Field(
        default=None, description="its place in the global sequence (accepted, duplicate)"
    )
    problems: list[Problem] | None = Field(default=None, description="why it was rejected")


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[EventResult]


# -- learners --------------------------------------------------------------------------


class EventRef(Strict):
    source: str = Uri
    id: str = LocalId


class ConsentRequest(Strict):
    """A consent the learner grants a verifier (ISO/IEC TS 27560 style)."""

    grantee_id: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="the verifier's id: the subject of its API tokens",
    )
    grantee_name: str = Field(min_length=1, max_length=300, pattern=r"\S")
    purposes: list[str] = Field(
        min_length=1,
        max_length=20,
        description="known purposes (recruitment, admissions, credential-verification, …) "
        "or purpose IRIs",
    )
    categories: list[Category] | None = Field(default=None, min_length=1, max_length=4)
    items: list[EventRef] | None = Field(default=None, min_length=1, max_length=1000)
    expires_at: AwareDatetime = Field(description="RFC 3339 with a zone; must be in the future")
    notice_url: str = Uri
    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class ConsentReceipt(Camel):
    consent_id: str
    receipt_id: str
    position: int


class ConsentRevoked(Camel):
    consent_id: str
    position: int


class WithdrawalRequest(Camel):
    reason: str | None = Field(
        None, min_length=1, max_length=300, description="why (kept as personal data)"
    )


class ExportWithdrawn(Camel):
    export_id: str
    position: int


class ErasureDone(Camel):
    learner: str
    request_id: str
    erased: bool
    position: int = Field(description="the position of the erasure-completed event")


# -- verifiers -------------------------------------------------------------------------


class PresentedCredential(Strict):
    credential: dict[str, Any] | str = Field(
        description="a JSON credential with Data Integrity proofs, or a compact VC-JWT"
    )


class StatusVerdict(BaseModel):
    purpose: str = Field(description="revocation or suspension")
    state: str = Field(description="revoked, suspended, valid or unknown")
    reason: str = Field(description="why the state is unknown; empty otherwise")


class CredentialCheck(BaseModel):
    type: str
    id: str | None
    name: str | None
    held: bool
    verified: bool
    reason: str
    warnings: list[str] = Field(
        default_factory=list,
        description="what was seen but not judged, e.g. a proof of a kind the ledger does "
        "not know beside one that verified",
    )
    status: list[StatusVerdict] = Field(
        default_factory=list,
        description="each Bitstring Status List entry, read from its list (fetched with a "
        "timeout); a revoked or suspended credential does not verify",
    )


class VerificationReport(BaseModel):
    verified: bool = Field(description="the outer credential and every held one verified")
    credentials: list[CredentialCheck]


# -- auditors --------------------------------------------------------------------------


class LogRow(BaseModel):
    position: int
    stream: str
    version: int
    topic: str
    hash: str = Field(description="the chain hash sealing the event (hex)")


class LogPage(BaseModel):
    rows: list[LogRow]
    head: int = Field(description="the log's last position")
    next: int | None = Field(description="the `from` of the next page, if there is more")


class AuditFailureModel(BaseModel):
    position: int
    reason: str


class AuditResult(BaseModel):
    ok: bool
    events_checked: int
    checkpoints_checked: int
    last_position: int | None
    head: str | None
    failure: AuditFailureModel | None


# -- admin -----------------------------------------------------------------------------


class IssuerRequest(Strict):
    id: str = Field(min_length=2, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=300, pattern=r"\S")
    source: str = Field(min_length=1, max_length=512)
    kind: Literal["institution", "employer"]
    types: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="categories (learning, work, credentials, corrections) or type names; "
        "default by kind",
    )
    dids: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="the DIDs (or https URLs) the issuer signs its credentials as: a "
        "credential embedded in its events must name one as issuer and be signed by its key",
    )


class IssuerModel(BaseModel):
    id: str
    name: str
    source: str
    kind: str
    types: list[str]
    active: bool
    dids: list[str] = Field(default_factory=list)
    registered_at: str


# -- health ----------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(
        description="`store`, and `broker` when one is configured: `ok` or the failure's name"
    )
