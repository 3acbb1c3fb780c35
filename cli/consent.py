"""Handlers of `ledger consent`: a learner grants and revokes, a verifier reads under consent."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from cli.output import emit_json
from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.settings import Settings
from projections.reading import LedgerRecords
from projections.store import open_projection_store
from services import consent as consent_service
from services.consent import (
    ConsentAlreadyRevokedError,
    ConsentNotActiveError,
    ConsentTerms,
    ConsentUnknownError,
    InvalidConsentError,
    NotYoursToReadError,
    view_under_consent,
)
from services.records import NoRecordError, learner_activity


def consent(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    now = datetime.now(UTC)
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            emit_json(_run(LedgerRecords(ledger, store), ledger, args, now))
        except NoRecordError as exc:
            raise LedgerError(f"--learner: {exc}") from None
        finally:
            store.close()
    return 0


def _run(records: LedgerRecords, ledger: Ledger, args: argparse.Namespace, now: datetime) -> Any:
    if args.action == "grant":
        return _grant(records, ledger, args, now)
    if args.action == "revoke":
        try:
            position = consent_service.revoke(records, ledger, args.learner, args.consent, now=now)
        except (ConsentUnknownError, ConsentAlreadyRevokedError) as exc:
            raise LedgerError(f"--consent: {exc}") from None
        return {"revoked": args.consent, "position": position}
    if args.action == "list":
        return learner_activity(records, args.learner)
    try:
        return view_under_consent(
            records, ledger, args.learner, args.consent,
            purpose=args.purpose, now=now, verifier=None,
        )  # fmt: skip
    except (ConsentNotActiveError, NotYoursToReadError) as exc:
        raise LedgerError(f"--consent: {exc}; nothing is disclosed") from None


def _grant(
    records: LedgerRecords, ledger: Ledger, args: argparse.Namespace, now: datetime
) -> dict[str, Any]:
    items = []
    for item in args.item or ():
        source, sep, event_id = item.rpartition(",")
        if not sep:
            raise LedgerError("--item: expected SOURCE,ID")
        items.append((source, event_id))
    terms = ConsentTerms(
        grantee_id=args.grantee_id,
        grantee_name=args.grantee_name,
        purposes=args.purpose,
        categories=args.category or (),
        items=items,
        expires_at=args.expires,
        notice_url=args.notice_url,
        jurisdiction=args.jurisdiction,
        withdrawal_method="ledger consent revoke",
    )
    try:
        granted = consent_service.grant(records, ledger, args.learner, terms, now=now)
    except InvalidConsentError:
        raise LedgerError("--category/--item: a consent needs a scope") from None
    return {
        "consentId": granted.consent_id,
        "receiptId": granted.receipt_id,
        "position": granted.position,
    }
