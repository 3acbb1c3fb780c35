"""Times as the ledger writes them: RFC 3339, UTC, with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

RFC3339_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


def utc_seconds(moment: datetime) -> str:
    """``moment`` to the second as the ledger writes such times: RFC 3339, UTC, ``Z``."""
    return moment.astimezone(UTC).strftime(RFC3339_SECONDS)
