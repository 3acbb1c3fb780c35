"""Strategies of the ``data`` of work events, as an employer's HR system sends them."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.strategies.base import (
    COUNTRIES,
    Data,
    Strategy,
    local_ids,
    ordered_partial_dates,
    partial_dates,
    person_names,
    record,
    sentences,
    small_lists,
)
from tests.strategies.defs import (
    credits,
    levels,
    occupation_refs,
    organisations,
    own_organisation,
    results,
    skill_refs,
    titles,
)
from tests.strategies.issuers import DataFactory, Issuer

JOB_TITLES = (
    "Junior Data Analyst",
    "Staff Nurse (Band 5)",
    "Elektroniker für Betriebstechnik",
    "Senior Software Developer",
    "Técnica de mantenimiento",
    "数据工程师",
)
RELATIONSHIPS = (
    "employee",
    "employee",
    "contractor",
    "self-employed",
    "volunteer",
    "apprentice",
    "intern",
    "other",
)
HOURS_PER_WEEK = st.one_of(
    st.sampled_from((37.5, 40, 20, 16)),
    st.floats(0, 100, allow_nan=False, allow_infinity=False),
)
HOURS = st.one_of(st.integers(0, 2000), st.floats(0, 100000, allow_nan=False))


def employment_started(issuer: Issuer) -> Strategy[Data]:
    return record(
        {
            "employmentId": local_ids("J", "EMP-"),
            "organisation": own_organisation(issuer),
            "title": titles(JOB_TITLES),
            "relationship": st.sampled_from(RELATIONSHIPS),
            "startDate": partial_dates(),
        },
        {
            "occupation": occupation_refs(),
            "hoursPerWeek": HOURS_PER_WEEK,
            "country": st.sampled_from(COUNTRIES),
        },
    )


def employment_ended(issuer: Issuer) -> Strategy[Data]:
    reasons = (
        "resigned",
        "contract-ended",
        "redundancy",
        "dismissed",
        "retired",
        "promoted-elsewhere",
        "other",
    )
    return record(
        {"employmentId": local_ids("J", "EMP-"), "endDate": partial_dates()},
        {"reason": st.sampled_from(reasons), "finalTitle": titles(JOB_TITLES)},
    )


APPRENTICESHIPS = (
    "Level 3 Installation Electrician",
    "Level 6 Registered Nurse Degree Apprenticeship",
    "Ausbildung Fachinformatiker/in",
)


def apprenticeship_completed(issuer: Issuer) -> Strategy[Data]:
    return ordered_partial_dates(2).flatmap(
        lambda dates: record(
            {
                "apprenticeshipId": local_ids("AP"),
                "programme": titles(APPRENTICESHIPS),
                "occupation": occupation_refs(),
                "organisation": own_organisation(issuer),
                "endDate": st.just(dates[1]),
            },
            {
                "standardCode": st.sampled_from(("ST0152", "ST0781", "IHK-2020-FI")),
                "level": levels(),
                "startDate": st.just(dates[0]),
                "result": results(),
                "skills": small_lists(skill_refs()),
                "credentialId": local_ids("CERT-"),
            },
        )
    )


EVALUATIONS = (
    "{name} was reliable, asked good questions and ran the stand-ups by week three.",
    "{name} hat selbstständig und sorgfältig gearbeitet.",
    "{name}在实习期间表现积极主动。",
)
PLACEMENTS = ("co-op", "internship", "work-placement", "clinical-rotation")


def placement_completed(issuer: Issuer) -> Strategy[Data]:
    return ordered_partial_dates(2).flatmap(
        lambda dates: record(
            {
                "placementId": local_ids("PL"),
                "kind": st.sampled_from(PLACEMENTS),
                "organisation": own_organisation(issuer),
                "endDate": st.just(dates[1]),
            },
            {
                "role": titles(("Data intern", "Student nurse", "Werkstudent")),
                "hostSupervisor": person_names(),
                "startDate": st.just(dates[0]),
                "hours": HOURS,
                "credits": credits(),
                "skills": small_lists(skill_refs()),
                "evaluation": sentences(EVALUATIONS),
            },
        )
    )


NOTES = (
    "Monthly one-to-ones with {name} on career planning.",
    "{name} and I paired on code reviews every Friday.",
)


def mentorship_recorded(issuer: Issuer) -> Strategy[Data]:
    return ordered_partial_dates(2).flatmap(
        lambda dates: record(
            {
                "mentorshipId": local_ids("M"),
                "role": st.sampled_from(("mentor", "mentee")),
                "startDate": st.just(dates[0]),
            },
            {
                "counterpartName": person_names(),
                "organisation": own_organisation(issuer),
                "endDate": st.just(dates[1]),
                "hours": HOURS,
                "focusSkills": small_lists(skill_refs()),
                "notes": sentences(NOTES),
            },
        )
    )


COMMENTS = (
    "{name} consistently applies this skill well under pressure.",
    "Ich kann {name} uneingeschränkt empfehlen.",
)


def skill_endorsed(issuer: Issuer) -> Strategy[Data]:
    endorser = record(
        {"name": person_names()},
        {
            "role": titles(("Team lead", "Ward manager", "Head of Engineering")),
            "organisation": st.one_of(own_organisation(issuer), organisations()),
        },
    )
    return record(
        {"skill": skill_refs(), "endorser": endorser, "endorsedOn": partial_dates()},
        {"level": levels(), "comment": sentences(COMMENTS)},
    )


DATA: dict[str, DataFactory] = {
    "org.lll.work.employment-started.v1": employment_started,
    "org.lll.work.employment-ended.v1": employment_ended,
    "org.lll.work.apprenticeship-completed.v1": apprenticeship_completed,
    "org.lll.work.placement-completed.v1": placement_completed,
    "org.lll.work.mentorship-recorded.v1": mentorship_recorded,
    "org.lll.work.skill-endorsed.v1": skill_endorsed,
}
