"""Strategies of the ``data`` of learning events, as a registrar's system sends them."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.strategies.base import (
    MEDIA_TYPES,
    Data,
    Strategy,
    digests,
    local_ids,
    ordered_partial_dates,
    partial_dates,
    record,
    sentences,
    small_lists,
    uris,
)
from tests.strategies.defs import (
    credits,
    event_refs,
    evidence_lists,
    levels,
    own_organisation,
    results,
    skill_refs,
    titles,
)
from tests.strategies.issuers import DataFactory, Issuer

PROGRAMMES = (
    "BSc Data Science",
    "Certificate in Nursing Practice",
    "Full-Stack Web Development Bootcamp",
    "Meisterkurs Elektrotechnik",
    "Diplôme universitaire en gestion de projet",
    "计算机科学硕士",
)
COURSES = (
    "Statistics I",
    "Databases and SQL",
    "Foundations of Nursing Practice",
    "Electrical Installation Principles",
    "Machine Learning",
    "Química General",
    "编程入门",
    "Design Thinking for Services",
)
COURSE_CODES = ("MATH1010", "CS2050", "NURS 1101", "ENG2204", "DATA3001", "QUI-101")
MODES = ("full-time", "part-time", "online", "blended")


def enrolment_started(issuer: Issuer) -> Strategy[Data]:
    programme = record(
        {"id": local_ids("PRG-"), "title": titles(PROGRAMMES)},
        {
            "code": st.sampled_from(COURSE_CODES),
            "level": levels(),
            "mode": st.sampled_from(MODES),
            "credits": credits(),
        },
    )
    return ordered_partial_dates(2).flatmap(
        lambda dates: record(
            {
                "enrolmentId": local_ids("E"),
                "programme": programme,
                "startDate": st.just(dates[0]),
            },
            {"organisation": own_organisation(issuer), "expectedEndDate": st.just(dates[1])},
        )
    )


def enrolment_ended(issuer: Issuer) -> Strategy[Data]:
    reasons = ("completed", "withdrawn", "transferred", "deferred", "expelled", "other")
    return record(
        {
            "enrolmentId": local_ids("E"),
            "endDate": partial_dates(),
            "reason": st.sampled_from(reasons),
        }
    )


def course_completed(issuer: Issuer) -> Strategy[Data]:
    return ordered_partial_dates(2).flatmap(
        lambda dates: record(
            {
                "courseId": local_ids("CRS-"),
                "title": titles(COURSES),
                "endDate": st.just(dates[1]),
            },
            {
                "code": st.sampled_from(COURSE_CODES),
                "enrolmentId": local_ids("E"),
                "organisation": own_organisation(issuer),
                "startDate": st.just(dates[0]),
                "credits": credits(),
                "result": results(),
                "level": levels(),
                "skills": small_lists(skill_refs()),
                "evidence": evidence_lists(),
            },
        )
    )


def module_completed(issuer: Issuer) -> Strategy[Data]:
    return record(
        {
            "moduleId": local_ids("MOD-"),
            "title": titles(COURSES),
            "completedOn": partial_dates(),
        },
        {
            "partOf": local_ids("PRG-", "CRS-"),
            "organisation": own_organisation(issuer),
            "credits": credits(),
            "result": results(),
            "level": levels(),
            "skills": small_lists(skill_refs()),
        },
    )


FEEDBACK = (
    "{name} explained the trade-offs clearly; work on time management.",
    "Sehr gute Leistung, {name}. Weiter so!",
    "{name} a démontré une excellente maîtrise des gestes techniques.",
    "{name}：表现出色，建议加强理论部分。",
)
METHODS = (
    "exam",
    "practical",
    "portfolio",
    "observation",
    "project",
    "oral",
    "simulation",
    "other",
)


def assessment_recorded(issuer: Issuer) -> Strategy[Data]:
    return record(
        {
            "assessmentId": local_ids("A-"),
            "competency": skill_refs(),
            "result": results(),
            "assessedOn": partial_dates(),
            "method": st.sampled_from(METHODS),
        },
        {
            "title": titles(("Practical assessment", "Final exam", "Objective structured exam")),
            "levelAchieved": levels(),
            "evidence": evidence_lists(),
            "feedback": sentences(FEEDBACK),
            "assessor": st.sampled_from(("Dr Aoife Byrne", "Prof. 王伟", "Jürgen Müller")),
        },
    )


def competency_mastered(issuer: Issuer) -> Strategy[Data]:
    return record(
        {"competency": skill_refs(), "masteredOn": partial_dates()},
        {"level": levels(), "basis": small_lists(event_refs(issuer.source))},
    )


ARTIFACTS = ("{name}'s ward audit dashboard", "Solar charge controller", "我的作品集网站")
DESCRIPTIONS = (
    "{name} built this over six weeks; it is used by the ward team every morning.",
    "Write-up, source code and results, by {name}.",
)


def portfolio_artifact_added(issuer: Issuer) -> Strategy[Data]:
    return record(
        {
            "artifactId": local_ids("P"),
            "title": sentences(ARTIFACTS),
            "url": uris(),
        },
        {
            "description": sentences(DESCRIPTIONS),
            "mediaType": st.sampled_from(MEDIA_TYPES),
            "digest": digests(),
            "createdOn": partial_dates(),
            "skills": small_lists(skill_refs()),
        },
    )


DATA: dict[str, DataFactory] = {
    "org.lll.learning.enrolment-started.v1": enrolment_started,
    "org.lll.learning.enrolment-ended.v1": enrolment_ended,
    "org.lll.learning.course-completed.v1": course_completed,
    "org.lll.learning.module-completed.v1": module_completed,
    "org.lll.learning.assessment-recorded.v1": assessment_recorded,
    "org.lll.learning.competency-mastered.v1": competency_mastered,
    "org.lll.learning.portfolio-artifact-added.v1": portfolio_artifact_added,
}
