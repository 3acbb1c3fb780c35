"""Validation reports every problem as field path + rule, and accepts every generated event."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import EventValidator, load_catalogue
from tests.strategies import EVENT_STRATEGIES

LEARNER = "lrn_0123456789ABCDEFGHJKMNPQRS"


@pytest.fixture(scope="module")
def validator() -> EventValidator:
    return EventValidator(load_catalogue())


def course(**data: Any) -> dict[str, Any]:
    base = {"courseId": "C-1", "title": "Statistics I", "endDate": "2024-06"}
    return {
        "specversion": "1.0",
        "id": "e-1",
        "source": "https://registrar.uni-north.example",
        "type": "org.lll.learning.course-completed.v1",
        "subject": LEARNER,
        "time": "2024-06-30T12:00:00Z",
        "data": {**base, **data},
    }


def rules(validator: EventValidator, event: Any) -> set[tuple[str, str]]:
    return {(p.path, p.rule) for p in validator.validate(event)}


def test_catalogue_has_every_v1_type_in_its_category() -> None:
    catalogue = load_catalogue()
    by_category: dict[str, int] = {}
    for t in catalogue:
        by_category[t.category] = by_category.get(t.category, 0) + 1
        assert t.name == f"org.lll.{t.category}.{t.file.name.removesuffix('.json')}"
    assert by_category == {
        "learning": 7,
        "work": 6,
        "credentials": 4,
        "learner": 7,
        "corrections": 2,
    }


def test_valid_event_has_no_problems(validator: EventValidator) -> None:
    assert validator.validate(course(result={"kind": "grade", "value": "A"})) == []


def test_missing_field_is_reported_at_its_own_path(validator: EventValidator) -> None:
    event = course()
    del event["data"]["title"]
    assert rules(validator, event) == {("data.title", "required")}


def test_every_problem_of_an_event_is_reported(validator: EventValidator) -> None:
    event = course(endDate="2024-13", credits={"value": -1, "system": "ECTS"}, colour="blue")
    assert rules(validator, event) == {
        ("data.endDate", "pattern"),
        ("data.credits.value", "minimum"),
        ("data", "additionalProperties"),
    }


def test_wrong_enum_names_field_and_rule_without_quoting_value(validator: EventValidator) -> None:
    (problem,) = validator.validate(course(result={"kind": "vibes", "value": "Zoë's secret"}))
    assert (problem.path, problem.rule) == ("data.result.kind", "enum")
    assert "vibes" not in problem.message


def test_unknown_type_is_rejected_with_known_type_rule(validator: EventValidator) -> None:
    event = course()
    event["type"] = "org.lll.learning.course-attended.v1"
    assert ("type", "known-type") in rules(validator, event)


def test_non_object_input_is_rejected(validator: EventValidator) -> None:
    assert rules(validator, [1, 2]) == {("", "type")}


def test_learner_event_without_subject_is_rejected(validator: EventValidator) -> None:
    event = course()
    del event["subject"]
    assert rules(validator, event) == {("subject", "required")}


def test_pathway_with_subject_is_rejected(validator: EventValidator) -> None:
    event = course()
    event["type"] = "org.lll.credentials.pathway-defined.v1"
    event["data"] = {
        "pathwayId": "p",
        "title": "P",
        "target": {"achievementId": "a", "title": "A"},
        "components": [{"achievementId": "b", "title": "B", "required": True}],
    }
    assert rules(validator, event) == {("subject", "false")}


def test_skill_without_uri_or_framework_code_is_rejected(validator: EventValidator) -> None:
    assert rules(validator, course(skills=[{"name": "statistics"}])) == {
        ("data.skills[0]", "anyOf")
    }


def test_year_only_and_year_month_dates_are_accepted(validator: EventValidator) -> None:
    assert validator.validate(course(endDate="2019")) == []
    assert validator.validate(course(endDate="2019-02", startDate="2018")) == []


def test_envelope_problems_are_reported_for_bad_source_and_time(validator: EventValidator) -> None:
    event = course()
    event["time"] = "yesterday"
    event["specversion"] = "0.3"
    assert {("time", "format"), ("specversion", "const")} <= rules(validator, event)


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_every_types_strategy_generates_valid_events(
    validator: EventValidator, data: st.DataObject
) -> None:
    for name, strategy in EVENT_STRATEGIES().items():
        event = data.draw(strategy, label=name)
        assert validator.validate(event) == [], name
