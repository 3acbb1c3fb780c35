"""Strategies of the ``data`` of learner-side events, which the ledger itself publishes."""

from __future__ import annotations

from hypothesis import strategies as st

from schemas.catalogue import known_purposes
from tests.strategies.base import (
    COUNTRIES,
    LANGUAGES,
    Data,
    Strategy,
    date_times,
    digests,
    later_date_time,
    local_ids,
    moments,
    partial_dates,
    record,
    rfc3339,
    small_lists,
    uris,
)
from tests.strategies.defs import contacts, event_refs, person_name_records
from tests.strategies.issuers import DataFactory, Issuer

CATEGORIES = ("learning", "work", "credentials", "skills", "pathways")
PURPOSES = (
    *known_purposes(),
    "https://w3id.org/dpv#IdentityVerification",
    "https://w3id.org/dpv#ServiceProvision",
)
GRANTEES = (
    {"id": "verifier-talentco", "name": "TalentCo Recruitment"},
    {"id": "uni-south-admissions", "name": "University of the South Admissions", "country": "GB"},
    {"id": "nmc-register", "name": "Nursing & Midwifery Council", "url": "https://nmc.example"},
    {"id": "acme-hr", "name": "ACME Personalabteilung GmbH", "country": "DE"},
    {"id": "hr-shenzhen", "name": "深圳人才服务中心", "country": "CN"},
)
WITHDRAWAL = (
    "One click in the learner app, or DELETE /consents/{id}",
    "Retirer le consentement dans l'application, à tout moment",
    "Write to privacy@ledger.example",
)


def registered(issuer: Issuer) -> Strategy[Data]:
    return record(
        {"name": person_name_records(), "registeredAt": date_times()},
        {
            "birthDate": partial_dates(1940, 2012),
            "contact": contacts(),
            "preferredLanguage": st.sampled_from(LANGUAGES),
            "jurisdiction": st.sampled_from(COUNTRIES),
        },
    )


def record_scopes() -> Strategy[Data]:
    """Whole categories, specific events, or both (never neither)."""
    categories = st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=5, unique=True)
    items = small_lists(event_refs(), 4, min_size=1)
    return st.one_of(
        record({"categories": categories}),
        record({"items": items}),
        record({"categories": categories, "items": items}),
    )


def consent_granted(issuer: Issuer) -> Strategy[Data]:
    """A consent receipt; it expires after it was given."""
    return moments().flatmap(
        lambda given: record(
            {
                "consentId": local_ids("C"),
                "receiptId": local_ids("R"),
                "schemaVersion": st.sampled_from(("1.0", "1.1", "2.0.1")),
                "grantee": st.sampled_from(GRANTEES),
                "purposes": st.lists(
                    st.sampled_from(PURPOSES), min_size=1, max_size=3, unique=True
                ),
                "scope": record_scopes(),
                "noticeUrl": uris("ledger.example"),
                "jurisdiction": st.sampled_from(COUNTRIES),
                "givenAt": st.just(rfc3339(given)),
                "expiresAt": later_date_time(given, max_days=2 * 365),
                "withdrawalMethod": st.sampled_from(WITHDRAWAL),
            },
            {"language": st.sampled_from(LANGUAGES)},
        )
    )


def consent_revoked(issuer: Issuer) -> Strategy[Data]:
    return record(
        {"consentId": local_ids("C"), "revokedAt": date_times()},
        {
            "reason": st.sampled_from(
                ("I got the job", "Ich habe es mir anders überlegt", "不再需要")
            )
        },
    )


def record_exported(issuer: Issuer) -> Strategy[Data]:
    return record(
        {
            "exportId": local_ids("X"),
            "format": st.sampled_from(("clr2-jwt", "clr2-di")),
            "scope": record_scopes(),
            "exportedAt": date_times(),
        },
        {"digest": digests()},
    )


def export_withdrawn(issuer: Issuer) -> Strategy[Data]:
    return record(
        {"exportId": local_ids("X"), "withdrawnAt": date_times()},
        {"reason": st.sampled_from(("A copy went astray", "Kopie verloren", "副本丢失"))},
    )


def record_disclosed(issuer: Issuer) -> Strategy[Data]:
    return st.sampled_from(GRANTEES).flatmap(
        lambda grantee: record(
            {
                "disclosureId": local_ids("D"),
                "consentId": local_ids("C"),
                "granteeId": st.just(grantee["id"]),
                "items": small_lists(event_refs(), 5, min_size=1),
                "disclosedAt": date_times(),
            },
            {"purpose": st.sampled_from(PURPOSES)},
        )
    )


def erasure_requested(issuer: Issuer) -> Strategy[Data]:
    return record(
        {"requestId": local_ids("ER"), "requestedAt": date_times()},
        {"channel": st.sampled_from(("api", "web", "support", "cli"))},
    )


def erasure_completed(issuer: Issuer) -> Strategy[Data]:
    return record(
        {
            "requestId": local_ids("ER"),
            "completedAt": date_times(),
            "keyDestroyed": st.sampled_from((True, True, True, False)),
        }
    )


DATA: dict[str, DataFactory] = {
    "org.lll.learner.registered.v1": registered,
    "org.lll.learner.consent-granted.v1": consent_granted,
    "org.lll.learner.consent-revoked.v1": consent_revoked,
    "org.lll.learner.record-exported.v1": record_exported,
    "org.lll.learner.export-withdrawn.v1": export_withdrawn,
    "org.lll.learner.record-disclosed.v1": record_disclosed,
    "org.lll.learner.erasure-requested.v1": erasure_requested,
    "org.lll.learner.erasure-completed.v1": erasure_completed,
}
