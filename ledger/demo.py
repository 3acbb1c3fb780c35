"""A realistic, deterministic population of learners, institutions and employers.

``generate(seed, learners)`` returns the issuers and the CloudEvents a few years of their
lives produce — enrolments, modules stacking into certificates, competency assessments,
apprenticeships, job changes, endorsements, consents, corrections — plus a handful of
malformed or unauthorised inputs, the way a real feed has them. Same seed, same events.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from ledger.records import LEDGER_SOURCE

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TYPE = "org.lll.{}.v1"


@dataclass(frozen=True)
class IssuerSpec:
    id: str
    name: str
    source: str
    kind: str
    types: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "kind": self.kind,
            "types": list(self.types),
        }


INSTITUTIONS = (
    IssuerSpec(
        "uni-north",
        "University of the North",
        "https://registrar.uni-north.example",
        "institution",
        ("learning", "credentials", "corrections"),
    ),
    IssuerSpec(
        "city-college",
        "City College of Applied Sciences",
        "https://records.citycollege.example",
        "institution",
        ("learning", "credentials", "corrections"),
    ),
    IssuerSpec(
        "codecamp",
        "CodeCamp Bootcamps",
        "https://api.codecamp.example/ledger",
        "institution",
        ("learning", "credentials", "corrections"),
    ),
    IssuerSpec(
        "openmooc",
        "OpenMOOC",
        "https://openmooc.example/issuer",
        "institution",
        ("learning", "credentials", "corrections"),
    ),
)
EMPLOYERS = (
    IssuerSpec(
        "northwind-health",
        "Northwind Health Trust",
        "https://hr.northwind-health.example",
        "employer",
        ("work", "credentials", "corrections"),
    ),
    IssuerSpec(
        "brightworks",
        "Brightworks Engineering Ltd",
        "https://people.brightworks.example",
        "employer",
        ("work", "credentials", "corrections"),
    ),
    IssuerSpec(
        "datamill",
        "DataMill Analytics",
        "https://hr.datamill.example",
        "employer",
        ("work", "credentials", "corrections"),
    ),
)

GIVEN = (
    "Amara",
    "Jonas",
    "Zoë",
    "Li",
    "Mateo",
    "Aisha",
    "Søren",
    "Priya",
    "Oluwaseun",
    "Élodie",
    "Kenji",
    "Fatima",
    "Liam",
    "Ingrid",
    "Tomás",
    "Mei",
    "Noah",
    "Yara",
    "Dmitri",
    "Chloé",
)
FAMILY = (
    "Okafor",
    "Schmidt",
    "Ångström",
    "Wang",
    "García",
    "Khan",
    "Nielsen",
    "Sharma",
    "Adeyemi",
    "Moreau",
    "Tanaka",
    "Haddad",
    "Murphy",
    "Larsen",
    "Ó Briain",
    "Chen",
    "Smith",
    "Haddad",
    "Petrov",
    "Dubois",
)
COUNTRIES = ("GB", "IE", "DE", "FR", "NL", "SE", "ES", "NG", "IN", "CA")
LANGS = ("en", "en-GB", "de", "fr", "nl", "sv", "es")


def _uuid(text: str) -> str:
    return str(UUID(bytes=hashlib.sha256(text.encode()).digest()[:16], version=4))


def _skill(name: str, framework: str = "ESCO") -> dict[str, Any]:
    if framework == "ESCO":
        return {
            "uri": f"http://data.europa.eu/esco/skill/{_uuid(name)}",
            "framework": "ESCO",
            "name": name,
        }
    if framework == "OSN-RSD":
        return {
            "uri": f"https://osn.example/rsd/{_uuid(name)}",
            "framework": "OSN-RSD",
            "name": name,
        }
    return {"framework": "LOCAL", "code": name.upper().replace(" ", "-")[:40], "name": name}


SKILLS = {
    "data": (
        "data analysis",
        "SQL",
        "statistics",
        "data visualisation",
        "Python programming",
        "machine learning",
    ),
    "nursing": (
        "patient assessment",
        "medication administration",
        "infection control",
        "clinical documentation",
        "care planning",
    ),
    "engineering": (
        "electrical installation",
        "technical drawing",
        "health and safety",
        "PLC programming",
        "project management",
    ),
    "software": (
        "JavaScript",
        "web development",
        "version control",
        "testing software",
        "agile development",
    ),
}
FIELDS = tuple(SKILLS)
OCCUPATIONS = {
    "data": {"framework": "ONET-SOC", "code": "15-2051.00", "name": "Data Scientists"},
    "nursing": {"framework": "ISCO-08", "code": "2221", "name": "Nursing professionals"},
    "engineering": {"framework": "ONET-SOC", "code": "47-2111.00", "name": "Electricians"},
    "software": {"framework": "ONET-SOC", "code": "15-1252.00", "name": "Software Developers"},
}
FIELD_EMPLOYER = {
    "data": "datamill",
    "nursing": "northwind-health",
    "engineering": "brightworks",
    "software": "datamill",
}
FIELD_INSTITUTION = {
    "data": "uni-north",
    "nursing": "city-college",
    "engineering": "city-college",
    "software": "codecamp",
}


@dataclass
class Population:
    """What ``generate`` produces: issuers, valid events (in time order), bad inputs."""

    issuers: list[IssuerSpec]
    events: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[tuple[str, bytes]] = field(default_factory=list)
    learners: list[str] = field(default_factory=list)
    erasure_requested: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, rng: random.Random, population: Population) -> None:
        self.rng = rng
        self.pop = population
        self.seq: dict[str, int] = {}
        self.by_id = {i.id: i for i in (*INSTITUTIONS, *EMPLOYERS)}

    def emit(
        self, issuer: str, kind: str, subject: str | None, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        source = LEDGER_SOURCE if issuer == "ledger" else self.by_id[issuer].source
        n = self.seq[issuer] = self.seq.get(issuer, 0) + 1
        ev: dict[str, Any] = {
            "specversion": "1.0",
            "id": f"{issuer}-{n:08d}",
            "source": source,
            "type": TYPE.format(kind),
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "datacontenttype": "application/json",
            "data": data,
        }
        if subject is not None:
            ev["subject"] = subject
        self.pop.events.append(ev)
        return ev


def learner_id(rng: random.Random) -> str:
    return "lrn_" + "".join(rng.choice(CROCKFORD) for _ in range(26))


def _day(d: datetime) -> str:
    return d.strftime("%Y-%m-%d")


def _pathways(b: _Builder, start: datetime) -> dict[str, list[dict[str, Any]]]:
    """Each field's stackable micro-credentials towards a certificate."""
    out: dict[str, list[dict[str, Any]]] = {}
    for f in FIELDS:
        inst = FIELD_INSTITUTION[f]
        comps = [
            {
                "achievementId": f"{f}-mc-{i}",
                "title": f"{SKILLS[f][i].capitalize()} micro-credential",
                "required": i < 3,
            }
            for i in range(5)
        ]
        b.emit(
            inst,
            "credentials.pathway-defined",
            None,
            start,
            {
                "pathwayId": f"{f}-certificate-pathway",
                "title": f"Certificate in {f.capitalize()}",
                "description": f"Three core and one of two elective micro-credentials in {f}.",
                "target": {
                    "achievementId": f"{f}-certificate",
                    "title": f"Certificate in {f.capitalize()}",
                    "kind": "certificate",
                },
                "components": comps,
                "minimumOptional": 1,
            },
        )
        out[f] = comps
    return out


def _learner(b: _Builder, lid: str, pathways: dict[str, list[dict[str, Any]]]) -> None:
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
            "registeredAt": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "preferredLanguage": rng.choice(LANGS),
            "jurisdiction": rng.choice(COUNTRIES),
        },
    )
    field_ = rng.choice(FIELDS)
    inst = FIELD_INSTITUTION[field_]
    skills = [_skill(s, rng.choice(("ESCO", "ESCO", "OSN-RSD", "LOCAL"))) for s in SKILLS[field_]]
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
            "startDate": _day(t),
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
                "completedOn": _day(end),
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
                "assessedOn": _day(t),
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
                    "masteredOn": _day(t),
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
                "issuedOn": _day(t),
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
                    "endorsedOn": _day(t),
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
                    "revokedOn": _day(t),
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
                "issuedOn": _day(t),
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
            "endDate": _day(t),
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
                "createdOn": _day(t),
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
            "endDate": _day(t),
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
                "retractedAt": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
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
                "correctedAt": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "replacement": fixed,
            },
        )
    _career(b, lid, field_, skills, given, later)
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
                "givenAt": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "expiresAt": (t + timedelta(days=180)).strftime("%Y-%m-%dT%H:%M:%SZ"),
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
                    "revokedAt": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
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
                "exportedAt": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )


def _career(
    b: _Builder, lid: str, field_: str, skills: list[dict[str, Any]], given: str, later: Any
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
                "startDate": _day(start),
                "endDate": _day(end),
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
                "startDate": _day(start),
                "endDate": _day(end),
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
                "startDate": _day(start) if rng.random() < 0.8 else start.strftime("%Y-%m"),
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
                    "endorsedOn": _day(later(1)),
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
                    "endDate": _day(later(1)),
                    "reason": rng.choice(("resigned", "contract-ended", "promoted-elsewhere")),
                },
            )


def _bad_lines(b: _Builder, rng: random.Random, max_event_bytes: int) -> list[tuple[str, bytes]]:
    import orjson

    good = b.pop.events
    sample = good[rng.randrange(len(good))]
    bad: list[tuple[str, bytes]] = [
        ("malformed JSON", b'{"specversion": "1.0", "id": "broken-1", "source": ')
    ]
    unknown = dict(sample, id="bad-unknown-type", type="org.lll.learning.course-attended.v1")
    bad.append(("unknown type", orjson.dumps(unknown)))
    course = next(e for e in good if e["type"].endswith("course-completed.v1"))
    broken = dict(
        course,
        id="bad-schema",
        data=dict(course["data"], endDate="2024-13-40", credits={"value": -5}),
    )
    bad.append(("schema violations", orjson.dumps(broken)))
    spoof = dict(course, id="bad-spoof", source="https://diploma-mill.example")
    bad.append(("unregistered issuer", orjson.dumps(spoof)))
    employer_course = dict(course, id="bad-unauthorised", source=EMPLOYERS[0].source)
    bad.append(("issuer not registered for this type", orjson.dumps(employer_course)))
    art = next((e for e in good if e["type"].endswith("portfolio-artifact-added.v1")), course)
    huge = dict(art, id="bad-oversized", data=dict(art["data"], description="x" * 9000))
    huge["data"]["skills"] = [_skill(f"skill {i}") for i in range(100)]
    line = orjson.dumps(huge)
    while len(line) <= max_event_bytes:
        huge["data"]["description"] = huge["data"].get("description", "") + "y" * 9000
        line = orjson.dumps(huge)
    bad.append(("oversized", line))
    return bad


def generate(seed: int, learners: int, *, max_event_bytes: int = 256 * 1024) -> Population:
    """The population for ``seed`` with ``learners`` learners (deterministic)."""
    rng = random.Random(seed)
    pop = Population(issuers=[*INSTITUTIONS, *EMPLOYERS])
    b = _Builder(rng, pop)
    pathways = _pathways(b, datetime(2014, 9, 1, 9, tzinfo=UTC))
    for _ in range(learners):
        lid = learner_id(rng)
        pop.learners.append(lid)
        _learner(b, lid, pathways)
    if learners:
        requester = pop.learners[rng.randrange(len(pop.learners))]
        pop.erasure_requested.append(requester)
        b.emit(
            "ledger",
            "learner.erasure-requested",
            requester,
            datetime(2025, 6, 1, 12, tzinfo=UTC),
            {
                "requestId": f"ER{seed}-{requester[-6:]}",
                "requestedAt": "2025-06-01T12:00:00Z",
                "channel": "cli",
            },
        )
        pop.bad_lines = _bad_lines(b, rng, max_event_bytes)
    return pop
