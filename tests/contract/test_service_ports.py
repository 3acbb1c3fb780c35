"""The real ledger satisfies the service ports, and so does each fake the unit tests use."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.crypto import generate_key
from ledger.settings import Settings
from services.ports import ChainAudit
from tests.unit.services.fakes import FakeChainAudit

PORTS = (ChainAudit,)


@pytest.mark.parametrize("port", PORTS, ids=lambda p: p.__name__)
def test_ledger_satisfies_the_service_port(tmp_path: Path, port: type) -> None:
    settings = Settings.from_env(
        {}, database_url=f"sqlite:///{tmp_path}/ledger.db", _master_key=generate_key()
    )
    with Ledger.open(settings) as ledger:
        assert isinstance(ledger, port)


def test_fake_chain_audit_satisfies_its_port() -> None:
    audit: ChainAudit = FakeChainAudit()
    assert isinstance(audit, ChainAudit)
