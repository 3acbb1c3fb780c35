"""A demo learner's working life: apprenticeships, placements, jobs, endorsements."""

from __future__ import annotations

from typing import Any

from demo.builder import EventBuilder, day
from demo.reference import EMPLOYERS, FAMILY, FIELD_EMPLOYER, GIVEN, OCCUPATIONS


def career_life(
    b: EventBuilder, lid: str, field_: str, skills: list[dict[str, Any]], given: str, later: Any
) -> None:
    rng = b.rng
    employer = FIELD_EMPLOYER[field_]
    org = {"id": employer, "name": b.by_id[employer].name, "country": "GB"}
    if field_ in ("engineering", "nursing") and rng.random() < 0.5:
        start = later(20)
        end = later(400)
        b.emit(
            employer,
            "work.apprenticeship-completed",
            lid,
            end,
            {
                "apprenticeshipId": f"AP{rng.randrange(10**6)}",
                "programme": f"Level 3 {field_} apprenticeship",
                "standardCode": f"ST{rng.randrange(100, 999):04d}",
                "occupation": OCCUPATIONS[field_],
                "organisation": org,
                "startDate": day(start),
                "endDate": day(end),
                "result": {
                    "kind": "grade",
                    "value": rng.choice(("Pass", "Merit", "Distinction")),
                    "passed": True,
                },
                "skills": skills[:3],
            },
        )
    elif rng.random() < 0.5:
        start = later(20)
        end = later(120)
        b.emit(
            employer,
            "work.placement-completed",
            lid,
            end,
            {
                "placementId": f"PL{rng.randrange(10**6)}",
                "kind": rng.choice(("co-op", "internship", "work-placement")),
                "organisation": org,
                "role": f"{field_.capitalize()} intern",
                "hostSupervisor": rng.choice(GIVEN),
                "startDate": day(start),
                "endDate": day(end),
                "hours": rng.randrange(200, 600),
                "skills": skills[1:3],
                "evaluation": f"{given} was reliable and eager to learn.",
            },
        )
    jobs = 1 + (rng.random() < 0.6) + (rng.random() < 0.3)
    for j in range(jobs):
        emp = employer if j == 0 else rng.choice([e.id for e in EMPLOYERS])
        eorg = {"id": emp, "name": b.by_id[emp].name, "country": rng.choice(("GB", "IE", "DE"))}
        job = f"J{rng.randrange(10**7)}"
        start = later(60)
        b.emit(
            emp,
            "work.employment-started",
            lid,
            start,
            {
                "employmentId": job,
                "organisation": eorg,
                "title": rng.choice(("Junior", "", "Senior ")).strip()
                + f" {OCCUPATIONS[field_]['name'].rstrip('s')}",
                "relationship": rng.choice(("employee", "employee", "contractor")),
                "occupation": OCCUPATIONS[field_],
                "hoursPerWeek": rng.choice((37.5, 40, 20)),
                "startDate": day(start) if rng.random() < 0.8 else start.strftime("%Y-%m"),
            },
        )
        if rng.random() < 0.4:
            b.emit(
                emp,
                "work.skill-endorsed",
                lid,
                later(200),
                {
                    "skill": rng.choice(skills),
                    "level": {"name": "proficient", "ordinal": 3, "framework": "Dreyfus"},
                    "endorser": {
                        "name": rng.choice(GIVEN) + " " + rng.choice(FAMILY),
                        "role": "Team lead",
                        "organisation": eorg,
                    },
                    "comment": f"{given} consistently applies this skill well.",
                    "endorsedOn": day(later(1)),
                },
            )
        if rng.random() < 0.25:
            b.emit(
                emp,
                "work.mentorship-recorded",
                lid,
                later(90),
                {
                    "mentorshipId": f"M{rng.randrange(10**6)}",
                    "role": rng.choice(("mentor", "mentee")),
                    "counterpartName": rng.choice(GIVEN),
                    "organisation": eorg,
                    "startDate": f"{start.year}",
                    "hours": rng.randrange(5, 60),
                    "focusSkills": skills[:2],
                    "notes": "Monthly one-to-ones.",
                },
            )
        if j < jobs - 1:
            b.emit(
                emp,
                "work.employment-ended",
                lid,
                later(500),
                {
                    "employmentId": job,
                    "endDate": day(later(1)),
                    "reason": rng.choice(("resigned", "contract-ended", "promoted-elsewhere")),
                },
            )
