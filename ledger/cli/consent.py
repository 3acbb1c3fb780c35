"""Handlers of `ledger consent`: a learner grants and revokes, a verifier reads under consent."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ledger.application import Ledger
from ledger.cli.output import emit_json
from ledger.cli.projections import learner_record
from ledger.errors import LedgerError
from ledger.settings import Settings
from projections.consent import (
    ConsentNotActiveError,
    ConsentTerms,
    InvalidConsentError,
    grant_consent,
    revoke_consent,
)
from projections.store import open_projection_store
from services.consent import NotYoursToReadError, view_under_consent
from services.records import learner_activity


def consent(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    now = datetime.now(UTC)
    with Ledger.open(settings) as ledger:
        if args.action == "grant":
            return _grant(ledger, args, now)
        record, _ = learner_record(ledger, settings, args.learner)
        if args.action == "revoke":
            position = revoke_consent(ledger, record, args.consent, now=now)
            emit_json({"revoked": args.consent, "position": position})
            return 0
        if args.action == "list":
            store = open_projection_store(settings)
            try:
                emit_json(learner_activity(ledger, store, args.learner))
            finally:
                store.close()
            return 0
        store = open_projection_store(settings)
        try:
            view = view_under_consent(
                ledger, store, args.learner, args.consent,
                purpose=args.purpose, now=now, verifier=None,
            )  # fmt: skip
        except (ConsentNotActiveError, NotYoursToReadError) as exc:
            raise LedgerError(f"--consent: {exc}; nothing is disclosed") from None
        finally:
            store.close()
        emit_json(view)
        return 0


def _grant(ledger: Ledger, args: argparse.Namespace, now: datetime) -> int:
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
        granted = grant_consent(ledger, args.learner, terms, now=now)
    except InvalidConsentError:
        raise LedgerError("--category/--item: a consent needs a scope") from None
    emit_json(
        {
            "consentId": granted.consent_id,
            "receiptId": granted.receipt_id,
            "position": granted.position,
        }
    )
    return 0
