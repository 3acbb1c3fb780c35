"""The event type names the code itself refers to, each written once; the catalogue defines them all."""

from __future__ import annotations

from typing import Final

CREDENTIAL_ISSUED: Final = "org.lll.credentials.issued.v1"
CREDENTIAL_ENDORSED: Final = "org.lll.credentials.endorsed.v1"
CREDENTIAL_REVOKED: Final = "org.lll.credentials.revoked.v1"
PATHWAY_DEFINED: Final = "org.lll.credentials.pathway-defined.v1"
EVENT_CORRECTED: Final = "org.lll.corrections.event-corrected.v1"
EVENT_RETRACTED: Final = "org.lll.corrections.event-retracted.v1"
LEARNER_REGISTERED: Final = "org.lll.learner.registered.v1"
CONSENT_GRANTED: Final = "org.lll.learner.consent-granted.v1"
CONSENT_REVOKED: Final = "org.lll.learner.consent-revoked.v1"
RECORD_DISCLOSED: Final = "org.lll.learner.record-disclosed.v1"
RECORD_EXPORTED: Final = "org.lll.learner.record-exported.v1"
EXPORT_WITHDRAWN: Final = "org.lll.learner.export-withdrawn.v1"
ERASURE_REQUESTED: Final = "org.lll.learner.erasure-requested.v1"
ERASURE_COMPLETED: Final = "org.lll.learner.erasure-completed.v1"

NAMED: Final = (
    CREDENTIAL_ISSUED,
    CREDENTIAL_ENDORSED,
    CREDENTIAL_REVOKED,
    PATHWAY_DEFINED,
    EVENT_CORRECTED,
    EVENT_RETRACTED,
    LEARNER_REGISTERED,
    CONSENT_GRANTED,
    CONSENT_REVOKED,
    RECORD_DISCLOSED,
    RECORD_EXPORTED,
    EXPORT_WITHDRAWN,
    ERASURE_REQUESTED,
    ERASURE_COMPLETED,
)
