"""Handlers of `ledger consent`: a learner grants and revokes, a verifier reads under consent."""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime

from ledger.application import Ledger
from ledger.cli.output import emit_json
from ledger.cli.projections import learner_record
from ledger.errors import LedgerError
from ledger.settings import Settings
from projections.consent import (
    CONSENT_GRANTED,
    CONSENT_REVOKED,
    ConsentNotActiveError,
    disclose,
)

SCHEMA_VERSION = "1.0"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def consent(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    with Ledger.open(settings) as ledger:
        if args.action == "grant":
            return _grant(ledger, args)
        if args.action == "revoke":
            data = {"consentId": args.consent, "revokedAt": _now()}
            position = ledger.publish_own(CONSENT_REVOKED, args.learner, data)
            emit_json({"revoked": args.consent, "position": position})
            return 0
        record, _ = learner_record(ledger, settings, args.learner)
        if args.action == "list":
            emit_json({k: record.get(k, []) for k in ("consents", "disclosures", "exports")})
            return 0
        try:
            view = disclose(
                ledger, record, args.consent, purpose=args.purpose, now=datetime.now(UTC)
            )
        except ConsentNotActiveError as exc:
            raise LedgerError(f"--consent: {exc}; nothing is disclosed") from None
        emit_json(view)
        return 0


def _grant(ledger: Ledger, args: argparse.Namespace) -> int:
    scope: dict[str, object] = {}
    if args.category:
        scope["categories"] = sorted(set(args.category))
    if args.item:
        items = []
        for item in args.item:
            source, sep, event_id = item.rpartition(",")
            if not sep:
                raise LedgerError("--item: expected SOURCE,ID")
            items.append({"source": source, "id": event_id})
        scope["items"] = items
    if not scope:
        raise LedgerError("--category/--item: a consent needs a scope")
    consent_id = f"consent-{uuid.uuid4().hex[:16]}"
    receipt_id = f"receipt-{uuid.uuid4().hex}"
    data = {
        "consentId": consent_id,
        "receiptId": receipt_id,
        "schemaVersion": SCHEMA_VERSION,
        "grantee": {"id": args.grantee_id, "name": args.grantee_name},
        "purposes": sorted(set(args.purpose)),
        "scope": scope,
        "noticeUrl": args.notice_url,
        "jurisdiction": args.jurisdiction,
        "givenAt": _now(),
        "expiresAt": args.expires,
        "withdrawalMethod": "ledger consent revoke",
    }
    position = ledger.publish_own(CONSENT_GRANTED, args.learner, data)
    emit_json({"consentId": consent_id, "receiptId": receipt_id, "position": position})
    return 0
