"""A demo learner's education: enrolment, modules, assessments, credentials, consents."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from demo.builder import EventBuilder, day
from demo.career import career_life
from demo.reference import (
    COUNTRIES,
    FAMILY,
    FIELD_INSTITUTION,
    FIELDS,
    GIVEN,
    LANGS,
    SKILLS,
    skill,
)
from schemas.times import utc_seconds


def learner_life(b: EventBuilder, lid: str, pathways: dict[str, list[dict[str, Any]]]) -> None:
    rng = b.rng
    t = datetime(
        2015 + rng.randrange(8), 1 + rng.randrange(12), 1 + rng.randrange(28), 9, tzinfo=UTC
    )

    def later(days: int) -> datetime:
        nonlocal t
        t = t + timedelta(
            days=rng.randrange(max(1, days // 2), days + 1), minutes=rng.randrange(600)
        )
        return t

    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    ascii_given = unicodedata.normalize("NFKD", given).encode("ascii", "ignore").decode().lower()
    contact: dict[str, Any] = {"email": f"{ascii_given}.{rng.randrange(10**6)}@mail.example"}
    if rng.random() < 0.4:
        contact["phone"] = f"+44 7{rng.randrange(10**8, 10**9)}"
    b.emit(
        "ledger",
        "learner.registered",
        lid,
        t,
        {
            "name": {"given": given, "family": family},
            "birthDate": f"{1970 + rng.randrange(35)}"
            if rng.random() < 0.3
            else f"{1970 + rng.randrange(35)}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}",
            "contact": contact,
            "registeredAt": utc_seconds(t),
            "preferredLanguage": rng.choice(LANGS),
            "jurisdiction": rng.choice(COUNTRIES),
        },
    )
    field_ = rng.choice(FIELDS)
    inst = FIELD_INSTITUTION[field_]
    skills = [skill(s, rng.choice(("ESCO", "ESCO", "OSN-RSD", "LOCAL"))) for s in SKILLS[field_]]
    enrol = f"E{rng.randrange(10**7):07d}"
    b.emit(
        inst,
        "learning.enrolment-started",
        lid,
        later(10),
        {
            "enrolmentId": enrol,
            "programme": {
                "id": f"{field_}-cert",
                "title": f"Certificate in {field_.capitalize()}",
                "level": {"name": "EQF 5", "ordinal": 5, "framework": "EQF"},
                "mode": rng.choice(("full-time", "part-time", "online", "blended")),
            },
            "organisation": {"id": inst, "name": b.by_id[inst].name, "country": "GB"},
            "startDate": day(t),
            "expectedEndDate": f"{t.year + 1}",
        },
    )
    earned = []
    comps = pathways[field_]
    for i, comp in enumerate(comps):
        if i >= 3 and rng.random() < 0.5:
            continue
        if rng.random() < 0.15:
            break
        end = later(60)
        b.emit(
            inst,
            "learning.module-completed",
            lid,
            end,
            {
                "moduleId": f"{field_}-m{i}",
                "title": comp["title"].replace(" micro-credential", ""),
                "partOf": f"{field_}-cert",
                "credits": {"value": 5, "system": "ECTS"},
                "result": {
                    "kind": "grade",
                    "value": rng.choice(("A", "B", "B", "C")),
                    "passed": True,
                },
                "completedOn": day(end),
                "skills": [skills[i]],
            },
        )
        assess = b.emit(
            inst,
            "learning.assessment-recorded",
            lid,
            later(5),
            {
                "assessmentId": f"A-{field_}-{i}-{rng.randrange(10**6)}",
                "title": f"Assessment: {skills[i]['name']}",
                "competency": skills[i],
                "levelAchieved": {
                    "name": rng.choice(("competent", "proficient", "expert")),
                    "ordinal": rng.randrange(2, 5),
                    "framework": "Dreyfus",
                },
                "result": {
                    "kind": "percent",
                    "value": str(rng.randrange(55, 100)),
                    "maxValue": "100",
                    "passed": True,
                },
                "assessedOn": day(t),
                "method": rng.choice(("exam", "practical", "portfolio", "observation")),
                "feedback": f"{given} showed {rng.choice(('solid', 'excellent', 'steady'))} progress.",
                "evidence": [
                    {
                        "url": f"https://evidence.{inst}.example/{rng.randrange(10**9)}",
                        "name": "Assessed work",
                        "narrative": f"Submitted by {given} {family}.",
                    }
                ],
            },
        )
        if rng.random() < 0.5:
            b.emit(
                inst,
                "learning.competency-mastered",
                lid,
                later(3),
                {
                    "competency": skills[i],
                    "level": {"name": "proficient", "ordinal": 3, "framework": "Dreyfus"},
                    "masteredOn": day(t),
                    "basis": [{"source": assess["source"], "id": assess["id"]}],
                },
            )
        cred = b.emit(
            inst,
            "credentials.issued",
            lid,
            later(7),
            {
                "credentialId": f"{comp['achievementId']}-{rng.randrange(10**8)}",
                "achievementId": comp["achievementId"],
                "kind": "micro-credential",
                "title": comp["title"],
                "issuedOn": day(t),
                "expiresOn": f"{t.year + 5}",
                "credits": {"value": 5, "system": "ECTS"},
                "skills": [skills[i]],
                "criteria": "Passed the module assessment.",
            },
        )
        earned.append((comp, cred))
        if rng.random() < 0.08:
            b.emit(
                inst,
                "credentials.endorsed",
                lid,
                later(30),
                {
                    "credentialId": cred["data"]["credentialId"],
                    "endorser": {
                        "id": "https://guild.example",
                        "name": f"{field_.capitalize()} Professionals Guild",
                    },
                    "claim": "Meets the guild's practice standard.",
                    "endorsedOn": day(t),
                },
            )
        elif rng.random() < 0.02:
            b.emit(
                inst,
                "credentials.revoked",
                lid,
                later(30),
                {
                    "credentialId": cred["data"]["credentialId"],
                    "reason": "Academic misconduct finding",
                    "revokedOn": day(t),
                },
            )
    required_done = sum(1 for c, _ in earned if c["required"]) >= 3
    optional_done = sum(1 for c, _ in earned if not c["required"]) >= 1
    if required_done and optional_done:
        b.emit(
            inst,
            "credentials.issued",
            lid,
            later(20),
            {
                "credentialId": f"{field_}-cert-{rng.randrange(10**8)}",
                "achievementId": f"{field_}-certificate",
                "kind": "certificate",
                "title": f"Certificate in {field_.capitalize()}",
                "issuedOn": day(t),
                "level": {"name": "EQF 5", "ordinal": 5, "framework": "EQF"},
                "skills": skills[:3],
            },
        )
    course = b.emit(
        inst,
        "learning.course-completed",
        lid,
        later(30),
        {
            "courseId": f"{field_}-capstone",
            "title": f"{field_.capitalize()} capstone project",
            "organisation": {"id": inst, "name": b.by_id[inst].name},
            "startDate": f"{t.year}",
            "endDate": day(t),
            "credits": {"value": 10, "system": "ECTS"},
            "result": {
                "kind": "grade",
                "value": rng.choice(("Distinction", "Merit", "Pass")),
                "passed": True,
            },
            "level": {"name": "EQF 5", "ordinal": 5, "framework": "EQF"},
            "skills": skills[:2],
            "evidence": [
                {
                    "url": f"https://portfolio.example/{lid[-8:]}/capstone",
                    "narrative": f"{given}'s capstone.",
                }
            ],
        },
    )
    if rng.random() < 0.3:
        b.emit(
            inst,
            "learning.portfolio-artifact-added",
            lid,
            later(5),
            {
                "artifactId": f"P{rng.randrange(10**6)}",
                "title": f"{given}'s {field_} showcase",
                "description": "A write-up of the project, with code and results.",
                "url": f"https://portfolio.example/{lid[-8:]}/showcase",
                "mediaType": "text/html",
                "createdOn": day(t),
                "skills": skills[:1],
            },
        )
    b.emit(
        inst,
        "learning.enrolment-ended",
        lid,
        later(10),
        {
            "enrolmentId": enrol,
            "endDate": day(t),
            "reason": "completed"
            if required_done
            else rng.choice(("withdrawn", "deferred", "transferred")),
        },
    )
    if rng.random() < 0.05:
        b.emit(
            inst,
            "corrections.event-retracted",
            lid,
            later(30),
            {
                "target": {"source": course["source"], "id": course["id"]},
                "reason": "Recorded against the wrong learner",
                "retractedAt": utc_seconds(t),
            },
        )
    elif rng.random() < 0.05:
        fixed = dict(
            course["data"], result={"kind": "grade", "value": "Distinction", "passed": True}
        )
        b.emit(
            inst,
            "corrections.event-corrected",
            lid,
            later(30),
            {
                "target": {"source": course["source"], "id": course["id"]},
                "reason": "Grade re-marked",
                "correctedAt": utc_seconds(t),
                "replacement": fixed,
            },
        )
    career_life(b, lid, field_, skills, given, later)
    if rng.random() < 0.4:
        consent = f"C{rng.randrange(10**8)}"
        b.emit(
            "ledger",
            "learner.consent-granted",
            lid,
            later(15),
            {
                "consentId": consent,
                "receiptId": f"R{rng.randrange(10**8)}",
                "schemaVersion": "1.0",
                "grantee": {"id": "verifier-talentco", "name": "TalentCo Recruitment"},
                "purposes": ["recruitment"],
                "scope": {"categories": ["credentials", "work"]},
                "noticeUrl": "https://ledger.example/notices/recruitment",
                "jurisdiction": "GB",
                "givenAt": utc_seconds(t),
                "expiresAt": utc_seconds(t + timedelta(days=180)),
                "withdrawalMethod": "One click in the learner app, or DELETE /consents/{id}",
            },
        )
        if rng.random() < 0.3:
            b.emit(
                "ledger",
                "learner.consent-revoked",
                lid,
                later(30),
                {
                    "consentId": consent,
                    "revokedAt": utc_seconds(t),
                },
            )
    if rng.random() < 0.15:
        b.emit(
            "ledger",
            "learner.record-exported",
            lid,
            later(10),
            {
                "exportId": f"X{rng.randrange(10**8)}",
                "format": "clr2-jwt",
                "scope": {"categories": ["learning", "credentials"]},
                "exportedAt": utc_seconds(t),
            },
        )
