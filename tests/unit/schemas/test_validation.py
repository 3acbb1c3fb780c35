"""Validation accepts every generated event and reports each problem as field path + rule."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import EventValidator, load_catalogue
from tests.strategies import EVENT_STRATEGIES, event_batches, events

LEARNER = "lrn_0123456789ABCDEFGHJKMNPQRS"
UNI = "https://registrar.uni-north.example"
VALIDATOR = EventValidator(load_catalogue())
PER_TYPE = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def envelope(type_name: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "e-1",
        "source": UNI,
        "type": f"org.lll.{type_name}.v1",
        "subject": LEARNER,
        "time": "2024-06-30T12:00:00Z",
        "data": data,
        **extra,
    }


def course(**data: Any) -> dict[str, Any]:
    base = {"courseId": "C-1", "title": "Statistics I", "endDate": "2024-06"}
    return envelope("learning.course-completed", {**base, **data})


def pathway() -> dict[str, Any]:
    event = envelope(
        "credentials.pathway-defined",
        {
            "pathwayId": "pw-1",
            "title": "Certificate in Data Analytics",
            "target": {"achievementId": "cert-data", "title": "Certificate in Data Analytics"},
            "components": [{"achievementId": "mc-sql", "title": "SQL", "required": True}],
        },
    )
    del event["subject"]
    return event


def issued(**data: Any) -> dict[str, Any]:
    base = {
        "credentialId": "CRED-1",
        "achievementId": "mc-sql",
        "kind": "micro-credential",
        "title": "SQL Foundations",
        "issuedOn": "2024-07",
    }
    return envelope("credentials.issued", {**base, **data})


def problems(event: Any) -> set[tuple[str, str]]:
    return {(p.path, p.rule) for p in VALIDATOR.validate(event)}


# -- every generated event is valid ---------------------------------------------------------


@pytest.mark.parametrize("type_name", sorted(EVENT_STRATEGIES))
@PER_TYPE
@given(data=st.data())
def test_strategy_of_each_type_generates_only_valid_events(
    type_name: str, data: st.DataObject
) -> None:
    event = data.draw(EVENT_STRATEGIES[type_name])
    assert event["type"] == type_name
    assert VALIDATOR.validate(event) == []


@settings(max_examples=150, deadline=None)
@given(events())
def test_any_event_survives_a_json_round_trip_unchanged_and_still_validates(
    event: dict[str, Any],
) -> None:
    decoded = orjson.loads(orjson.dumps(event))
    assert decoded == event
    assert VALIDATOR.validate(decoded) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_batches(max_size=30))
def test_event_batches_are_valid_unique_and_correct_only_earlier_own_events(
    batch: list[dict[str, Any]],
) -> None:
    keys = [(e["source"], e["id"]) for e in batch]
    assert len(set(keys)) == len(keys)
    for i, event in enumerate(batch):
        assert VALIDATOR.validate(event) == []
        if ".corrections." in event["type"]:
            target = event["data"]["target"]
            assert target["source"] == event["source"]
            assert (target["source"], target["id"]) in keys[:i]


@settings(max_examples=20, deadline=None)
@given(event_batches(min_size=10, max_size=10, learner_pool=2))
def test_event_batches_draw_several_events_per_learner(batch: list[dict[str, Any]]) -> None:
    subjects = [e["subject"] for e in batch if "subject" in e]
    assert len(set(subjects)) <= 2


# -- one problem, one path + rule ------------------------------------------------------------


def test_validator_minimal_course_completion_has_no_problems() -> None:
    assert VALIDATOR.validate(course()) == []


def test_validator_missing_data_field_reports_its_own_path_as_required() -> None:
    event = course()
    del event["data"]["title"]
    assert problems(event) == {("data.title", "required")}


def test_validator_wrong_enum_names_field_and_rule_without_quoting_the_value() -> None:
    (problem,) = VALIDATOR.validate(course(result={"kind": "vibes", "value": "A"}))
    assert (problem.path, problem.rule) == ("data.result.kind", "enum")
    assert "vibes" not in problem.message


@pytest.mark.parametrize("bad", ["2024-13", "2024-00", "2024-02-32", "24", "2024-6", "2024/06"])
def test_validator_impossible_partial_date_is_a_pattern_problem(bad: str) -> None:
    assert problems(course(endDate=bad)) == {("data.endDate", "pattern")}


@pytest.mark.parametrize("good", ["2019", "2019-02", "2019-02-28", "2019-12-31"])
def test_validator_year_month_and_full_dates_are_accepted(good: str) -> None:
    assert VALIDATOR.validate(course(endDate=good, startDate="2018")) == []


def test_validator_unknown_extra_field_is_named_under_additional_properties() -> None:
    (problem,) = VALIDATOR.validate(course(colour="blue"))
    assert (problem.path, problem.rule) == ("data", "additionalProperties")
    assert "'colour'" in problem.message


def test_validator_unknown_type_is_reported_as_known_type() -> None:
    event = course()
    event["type"] = "org.lll.learning.course-attended.v1"
    assert problems(event) == {("type", "known-type")}


@pytest.mark.parametrize("not_an_event", [[1, 2], "event", None, 42])
def test_validator_input_that_is_not_an_object_is_one_type_problem(not_an_event: Any) -> None:
    assert problems(not_an_event) == {("", "type")}


def test_validator_subject_on_a_pathway_definition_breaks_the_false_rule() -> None:
    assert VALIDATOR.validate(pathway()) == []
    assert problems({**pathway(), "subject": LEARNER}) == {("subject", "false")}


def test_validator_learner_event_without_subject_reports_subject_required() -> None:
    event = envelope(
        "learner.registered", {"name": {"given": "Zoë"}, "registeredAt": "2024-01-01T00:00:00Z"}
    )
    event["source"] = "urn:lll:ledger"
    assert VALIDATOR.validate(event) == []
    del event["subject"]
    assert problems(event) == {("subject", "required")}


@pytest.mark.parametrize(
    "skill",
    [{"name": "statistics"}, {"name": "SQL", "framework": "ESCO"}, {"name": "SQL", "code": "S1"}],
)
def test_validator_skill_without_uri_or_framework_and_code_breaks_any_of(
    skill: dict[str, Any],
) -> None:
    assert problems(course(skills=[skill])) == {("data.skills[0]", "anyOf")}
    (problem,) = VALIDATOR.validate(course(skills=[skill]))
    assert problem.message.startswith("needs 'uri', or ")  # names what is missing


@pytest.mark.parametrize(
    "skill",
    [
        {"name": "SQL", "uri": "http://data.europa.eu/esco/skill/abc"},
        {"name": "Critical Thinking", "framework": "ONET", "code": "2.A.2.a"},
    ],
)
def test_validator_skill_by_uri_or_by_framework_and_code_is_accepted(
    skill: dict[str, Any],
) -> None:
    assert VALIDATOR.validate(course(skills=[skill])) == []


def test_validator_reports_every_problem_of_one_event() -> None:
    event = course(endDate="2024-13", credits={"value": -1, "system": "ECTS"}, colour="blue")
    event["time"] = "yesterday"
    del event["data"]["title"]
    assert problems(event) == {
        ("time", "format"),
        ("data.title", "required"),
        ("data.endDate", "pattern"),
        ("data.credits.value", "minimum"),
        ("data", "additionalProperties"),
    }


def test_validator_blank_title_is_refused() -> None:
    assert problems(course(title="   ")) == {("data.title", "pattern")}


def test_validator_time_without_offset_is_a_format_problem() -> None:
    assert problems({**course(), "time": "2024-06-30T12:00:00"}) == {("time", "format")}


def test_validator_jwt_format_with_a_json_credential_is_a_type_problem() -> None:
    ok = issued(embedded={"format": "ob3-jwt", "credential": "eyJh.eyJz.c2ln"})
    assert VALIDATOR.validate(ok) == []
    bad = issued(embedded={"format": "ob3-jwt", "credential": {"type": ["VerifiableCredential"]}})
    assert problems(bad) == {("data.embedded.credential", "type")}


def test_validator_consent_scope_covering_nothing_is_refused() -> None:
    data = {
        "consentId": "C1",
        "receiptId": "R1",
        "schemaVersion": "1.0",
        "grantee": {"id": "talentco", "name": "TalentCo"},
        "purposes": ["recruitment"],
        "scope": {"categories": ["work"]},
        "noticeUrl": "https://ledger.example/notices/recruitment",
        "jurisdiction": "GB",
        "givenAt": "2024-01-01T00:00:00Z",
        "expiresAt": "2024-07-01T00:00:00Z",
        "withdrawalMethod": "One click in the app",
    }
    event = envelope("learner.consent-granted", data, source="urn:lll:ledger")
    assert VALIDATOR.validate(event) == []
    empty = copy.deepcopy(event)
    empty["data"]["scope"] = {}
    assert problems(empty) == {("data.scope", "minProperties")}


def test_validator_problem_about_a_personal_field_never_quotes_its_value() -> None:
    secret = "Zoë Ångström " * 30
    event = envelope("learner.registered", {"name": {"given": secret}, "registeredAt": "x"})
    reported = VALIDATOR.validate(event)
    assert {(p.path, p.rule) for p in reported} == {
        ("data.name.given", "maxLength"),
        ("data.registeredAt", "format"),
    }
    assert not any("Zoë" in p.message for p in reported)


def test_validator_thousands_of_broken_items_report_twenty_problems_then_says_more() -> None:
    found = VALIDATOR.validate(course(skills=[5] * 5000))
    assert len(found) == 21
    assert found[-1].rule == "max-problems"
    assert len({p.path for p in found[:-1]}) == 20


def test_validator_unknown_type_with_many_envelope_problems_is_capped_too() -> None:
    event = {f"k{i}": i for i in range(100)} | {"type": [1] * 1000, "id": [], "source": {}}
    found = VALIDATOR.validate(event)
    assert 1 < len(found) <= 21
