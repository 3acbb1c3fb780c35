"""The shared ingest pipeline on SQLite and a real PostgreSQL: every input accounted for."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from demo import generate
from ledger.application import Ledger
from ledger.errors import MasterKeyMissingError
from ledger.outcomes import Accepted, Channel, Duplicated, Rejected
from ledger.settings import Settings
from tests.conftest import LedgerBuilder

FILE = Channel("file")
LEARNER = "lrn_0123456789ABCDEFGHJKMNPQRS"
OTHER = "lrn_ZZZZZZZZZZZZZZZZZZZZZZZZZZ"
UNI = "https://registrar.uni-north.example"
EMPLOYER = "https://hr.northwind.example"
backends = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


def course(event_id: str, subject: str = LEARNER, source: str = UNI, **extra: Any) -> bytes:
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": "org.lll.learning.course-completed.v1",
        "subject": subject,
        "time": "2024-06-30T12:00:00Z",
        "data": {"courseId": "C-1", "title": "Statistics I", "endDate": "2024-06", **extra},
    }
    return orjson.dumps(event)


def registered(event_id: str, subject: str = LEARNER) -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "urn:lll:ledger",
            "type": "org.lll.learner.registered.v1",
            "subject": subject,
            "time": "2024-01-01T00:00:00Z",
            "data": {
                "name": {"given": "Zoë", "family": "Ångström"},
                "birthDate": "1990-04",
                "contact": {"email": "zoe@mail.example"},
                "registeredAt": "2024-01-01T00:00:00Z",
            },
        }
    )


def rule_of(result: Any) -> tuple[str, str]:
    assert isinstance(result, Rejected)
    return result.problems[0].path, result.problems[0].rule


@backends
def test_bad_inputs_are_each_rejected_and_the_rest_stored(
    make_ledger: LedgerBuilder, database_url: str
) -> None:
    ledger = make_ledger(database_url)
    raws = [
        course("ok-1"),
        b'{"specversion": "1.0", "id": ',
        course("bad-date", endDate="2024-13"),
        course("spoof", source="https://diploma-mill.example"),
        course("wrong-type", source=EMPLOYER),
        course("huge", description="x" * 300_000),
        orjson.dumps({"type": "org.lll.learning.nope.v1"}),
        course("ok-2"),
    ]
    results = ledger.ingest(raws, FILE)
    assert isinstance(results[0], Accepted)
    assert isinstance(results[-1], Accepted)
    assert rule_of(results[1]) == ("", "json")
    assert rule_of(results[2]) == ("data.endDate", "pattern")
    assert rule_of(results[3]) == ("source", "registered-issuer")
    assert rule_of(results[4]) == ("type", "issuer-authorised")
    assert rule_of(results[5]) == ("", "max-size")
    assert ("type", "known-type") in {(p.path, p.rule) for p in results[6].problems}  # type: ignore[union-attr]
    assert [e.envelope["id"] for e in ledger.learner_events(LEARNER)] == ["ok-1", "ok-2"]


@backends
def test_source_not_matching_the_authenticated_channel_is_rejected(
    make_ledger: LedgerBuilder, database_url: str
) -> None:
    ledger = make_ledger(database_url)
    results = ledger.ingest(
        [course("a"), course("b", source=EMPLOYER)], Channel("kafka", "northwind")
    )
    assert rule_of(results[0]) == ("source", "matches-channel")
    assert rule_of(results[1]) == ("type", "issuer-authorised")
    (ok,) = ledger.ingest([course("c")], Channel("kafka", "uni-north"))
    assert isinstance(ok, Accepted)


@backends
def test_resent_events_are_duplicates_of_the_stored_ones(
    make_ledger: LedgerBuilder, database_url: str
) -> None:
    ledger = make_ledger(database_url)
    first = ledger.ingest([course("a"), course("b")], FILE)
    again = ledger.ingest([course("b"), course("a"), course("c")], FILE)
    assert again[0] == Duplicated(first[1].position)  # type: ignore[union-attr]
    assert again[1] == Duplicated(first[0].position)  # type: ignore[union-attr]
    assert isinstance(again[2], Accepted)


@backends
def test_personal_data_is_stored_only_encrypted_and_read_back_decrypted(
    make_ledger: LedgerBuilder, database_url: str
) -> None:
    ledger = make_ledger(database_url)
    (result,) = ledger.ingest([registered("r1")], FILE)
    assert isinstance(result, Accepted)
    (row,) = ledger.recorder.select_log(result.position, 1)
    for secret in ("Zoë", "Ångström", "zoe@mail.example", "1990-04"):
        assert secret.encode() not in row.state
    (event,) = ledger.learner_events(LEARNER)
    assert event.envelope["data"]["name"] == {"given": "Zoë", "family": "Ångström"}
    assert event.envelope["data"]["registeredAt"] == "2024-01-01T00:00:00Z"


@backends
def test_erasure_destroys_personal_data_keeps_others_and_the_chain(
    make_ledger: LedgerBuilder, database_url: str
) -> None:
    ledger = make_ledger(database_url)
    ledger.ingest([registered("r1"), registered("r2", OTHER), course("c1")], FILE)
    ledger.erase(LEARNER)
    mine = ledger.learner_events(LEARNER)
    assert mine[0].erased
    assert "name" not in mine[0].envelope["data"]
    assert mine[0].envelope["data"]["registeredAt"] == "2024-01-01T00:00:00Z"
    assert mine[1].envelope["data"]["title"] == "Statistics I"  # no personal data: intact
    assert mine[-1].topic == "org.lll.learner.erasure-completed.v1"
    (theirs,) = ledger.learner_events(OTHER)
    assert theirs.envelope["data"]["name"]["given"] == "Zoë"
    assert ledger.audit().ok
    (late,) = ledger.ingest([course("late")], FILE)
    assert rule_of(late) == ("subject", "not-erased")


@backends
def test_retraction_must_target_an_existing_event_of_the_same_issuer(
    make_ledger: LedgerBuilder, database_url: str
) -> None:
    ledger = make_ledger(database_url)
    ledger.ingest([course("c1")], FILE)

    def retract(event_id: str, target_source: str, target_id: str, source: str = UNI) -> bytes:
        return orjson.dumps(
            {
                "specversion": "1.0",
                "id": event_id,
                "source": source,
                "type": "org.lll.corrections.event-retracted.v1",
                "subject": LEARNER,
                "time": "2024-07-01T00:00:00Z",
                "data": {
                    "target": {"source": target_source, "id": target_id},
                    "reason": "wrong learner",
                    "retractedAt": "2024-07-01T00:00:00Z",
                },
            }
        )

    ok, missing, foreign = ledger.ingest(
        [retract("r1", UNI, "c1"), retract("r2", UNI, "nope"), retract("r3", UNI, "c1", EMPLOYER)],
        FILE,
    )
    assert isinstance(ok, Accepted)
    assert rule_of(missing) == ("data.target", "exists")
    assert rule_of(foreign) == ("data.target.source", "own-events-only")


def test_personal_data_without_master_key_fails_with_a_clear_error(
    make_ledger: LedgerBuilder, tmp_path: Any
) -> None:
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path}/nokey.db")
    with Ledger.open(settings) as ledger:
        (ok,) = ledger.ingest(
            [
                orjson.dumps(
                    {
                        **orjson.loads(registered("x")),
                        "type": "org.lll.learner.erasure-requested.v1",
                        "data": {"requestId": "q", "requestedAt": "2024-01-01T00:00:00Z"},
                    }
                )
            ],
            FILE,
        )
        assert isinstance(ok, Accepted)  # no personal data, no key needed
        with pytest.raises(MasterKeyMissingError, match="LEDGER_MASTER_KEY"):
            ledger.ingest([registered("r1")], FILE)


@backends
def test_demo_population_is_accepted_whole(make_ledger: LedgerBuilder, database_url: str) -> None:
    ledger = make_ledger(database_url)
    population = generate(seed=3, learners=15)
    for spec in population.issuers:
        ledger.registry.register(
            spec.id, name=spec.name, source=spec.source, kind=spec.kind, types=spec.types
        )
    raws = [orjson.dumps(e) for e in population.events]
    results = [
        r
        for start in range(0, len(raws), 100)
        for r in ledger.ingest(raws[start : start + 100], FILE)
    ]
    assert all(isinstance(r, Accepted) for r in results), [
        r for r in results if isinstance(r, Rejected)
    ][:3]
    bad = ledger.ingest([line for _, line in population.bad_lines], FILE)
    assert all(isinstance(r, Rejected) for r in bad)
    assert ledger.audit().ok
