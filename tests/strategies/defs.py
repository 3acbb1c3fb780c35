"""Strategies for the shared definitions of ``schemas/defs.v1.json``, one per definition."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.strategies.base import (
    COUNTRIES,
    FAMILY,
    GIVEN,
    MEDIA_TYPES,
    Data,
    Strategy,
    codes,
    digests,
    local_ids,
    pick,
    record,
    sentences,
    small_lists,
    uris,
    without_some,
)
from tests.strategies.issuers import ALL_ISSUERS, Issuer

# -- organisations ---------------------------------------------------------------------------

OTHER_ORGANISATIONS: tuple[Data, ...] = (
    {"id": "https://guild.example", "name": "Guild of Data Professionals"},
    {"id": "nmc", "name": "Nursing & Midwifery Council", "country": "GB"},
    {
        "id": "ihk-berlin",
        "name": "IHK Berlin",
        "url": "https://ihk-berlin.example",
        "country": "DE",
    },
    {"id": "tsinghua-ext", "name": "清华大学继续教育学院", "country": "CN"},
)


def own_organisation(issuer: Issuer) -> Strategy[Data]:
    """The issuer itself as an organisation, with or without its optional fields."""
    full = {
        "id": issuer.id,
        "name": issuer.name or issuer.id,
        "url": issuer.source if issuer.source.startswith("https://") else "https://example.org",
        "country": issuer.country,
    }
    return without_some(full, ["url", "country"])


def organisations() -> Strategy[Data]:
    """Any organisation: a known issuer, a professional body, or an arbitrary one."""
    arbitrary = record(
        {"id": local_ids("org-"), "name": pick(("Acme GmbH", "Ørsted A/S"), 120)},
        {"url": uris(), "country": st.sampled_from(COUNTRIES)},
    )
    known = st.sampled_from(ALL_ISSUERS[:-1]).flatmap(own_organisation)
    return st.one_of(known, st.sampled_from(OTHER_ORGANISATIONS), arbitrary)


# -- skills and occupations ------------------------------------------------------------------

SKILL_NAMES = (
    "data analysis",
    "SQL",
    "statistics",
    "Python (computer programming)",
    "patient assessment",
    "infection control",
    "electrical wiring",
    "project management",
    "critical thinking",
    "gestion de projet",
    "Datenanalyse",
    "团队合作",
)
ONET_ELEMENTS = (
    ("2.A.2.a", "Critical Thinking"),
    ("2.B.1.a", "Social Perceptiveness"),
    ("2.A.1.e", "Mathematics"),
    ("2.B.3.e", "Programming"),
)


def _uuid_uri(prefix: str) -> Strategy[str]:
    return st.uuids().map(lambda u: f"{prefix}{u}")


def skill_refs() -> Strategy[Data]:
    """A skill by ESCO, Open Skills Network or CTDL URI, by O*NET element code, or local code."""
    name = pick(SKILL_NAMES, 80)
    esco = record(
        {"uri": _uuid_uri("http://data.europa.eu/esco/skill/"), "name": name},
        {"framework": st.just("ESCO")},
    )
    osn = record(
        {
            "uri": _uuid_uri("https://rsd.openskillsnetwork.example/api/skills/"),
            "framework": st.just("OSN-RSD"),
            "name": name,
        }
    )
    ctdl = record(
        {
            "uri": _uuid_uri("https://credentialengineregistry.example/resources/ce-"),
            "name": name,
        },
        {"framework": st.just("CTDL")},
    )
    onet = st.sampled_from(ONET_ELEMENTS).flatmap(
        lambda el: record(
            {"framework": st.just("ONET"), "code": st.just(el[0]), "name": st.just(el[1])},
            {"uri": st.just(f"https://www.onetonline.example/find/descriptor/result/{el[0]}")},
        )
    )
    local = record(
        {"framework": st.just("LOCAL"), "code": codes("SK-0042", "DA.3.1"), "name": name}
    )
    return st.one_of(esco, esco, osn, ctdl, onet, local)


OCCUPATIONS: tuple[Data, ...] = (
    {"framework": "ONET-SOC", "code": "15-2051.00", "name": "Data Scientists"},
    {"framework": "ONET-SOC", "code": "15-1252.00", "name": "Software Developers"},
    {"framework": "ISCO-08", "code": "2221", "name": "Nursing professionals"},
    {"framework": "ISCO-08", "code": "7411", "name": "Building and related electricians"},
    {"framework": "SOC-2018", "code": "29-1141", "name": "Registered Nurses"},
    {
        "framework": "ESCO",
        "code": "2511.3",
        "uri": "http://data.europa.eu/esco/occupation/d3edb8f8-3a45-4ebd-9b22-f1a9b8a7e3a8",
        "name": "data scientist",
    },
    {"framework": "LOCAL", "code": "HR-0042", "name": "Técnico de mantenimiento"},
)


def occupation_refs() -> Strategy[Data]:
    return st.sampled_from(OCCUPATIONS)


# -- results, levels, credits ----------------------------------------------------------------

GRADES = ("A", "B+", "C", "1st", "2:1", "Distinction", "Merit", "Pass", "Sehr gut (1,3)", "優")


def _scored(kind: str, top: int) -> Strategy[Data]:
    return st.integers(0, top).flatmap(
        lambda n: record(
            {"kind": st.just(kind), "value": st.just(str(n))},
            {"maxValue": st.just(str(top)), "passed": st.just(n * 2 >= top)},
        )
    )


def results() -> Strategy[Data]:
    """A result of each kind with values that make sense for it."""
    return st.one_of(
        record(
            {"kind": st.just("grade"), "value": pick(GRADES, 20)},
            {"passed": st.booleans()},
        ),
        _scored("percent", 100),
        st.integers(1, 500).flatmap(lambda top: _scored("points", top)),
        st.booleans().flatmap(
            lambda ok: record(
                {"kind": st.just("pass-fail"), "value": st.just("pass" if ok else "fail")},
                {"passed": st.just(ok)},
            )
        ),
        record({"kind": st.just("level"), "value": st.sampled_from(("Level 3", "B2", "Advanced"))}),
        _scored("rubric-score", 4),
    )


LEVELS: tuple[Data, ...] = (
    {"name": "EQF 6", "ordinal": 6, "framework": "EQF"},
    {"name": "EQF 5", "ordinal": 5, "framework": "EQF"},
    {"name": "B2", "ordinal": 4, "framework": "CEFR"},
    {"name": "proficient", "ordinal": 3, "framework": "Dreyfus"},
    {"name": "SFIA level 4", "ordinal": 4, "framework": "SFIA"},
    {"name": "Level 3", "ordinal": 3, "framework": "NQF"},
    {"name": "Bachelor's or equivalent", "ordinal": 6, "framework": "ISCED"},
    {"name": "Analyse", "ordinal": 4, "framework": "Bloom"},
    {"name": "Avancé", "framework": "LOCAL"},
)


def levels() -> Strategy[Data]:
    return st.sampled_from(LEVELS).flatmap(lambda lv: without_some(lv, ["ordinal", "framework"]))


CREDIT_VALUES: dict[str, Strategy[Any]] = {
    "ECTS": st.integers(1, 120).map(lambda n: n / 2 if n % 2 else n // 2),
    "US-semester": st.integers(1, 6),
    "US-quarter": st.integers(1, 9),
    "CATS": st.sampled_from((10, 15, 20, 30, 60, 120)),
    "CEU": st.integers(1, 100).map(lambda n: n / 10),
    "other": st.floats(0, 1000, allow_nan=False, allow_infinity=False),
}


def credits() -> Strategy[Data]:
    return st.sampled_from(sorted(CREDIT_VALUES)).flatmap(
        lambda system: record(
            {"value": CREDIT_VALUES[system], "system": st.just(system)},
            {"level": st.sampled_from(("FHEQ 6", "Level 5", "undergraduate", "graduate"))},
        )
    )


# -- evidence and references -----------------------------------------------------------------

NARRATIVES = (
    "{name} designed and ran the survey, then analysed 1,204 responses.",
    "Submitted by {name}; externally moderated.",
    "{name}'s capstone: a dashboard for the ward's infection-control audits.",
)


def evidence() -> Strategy[Data]:
    """Evidence of an achievement; the narrative talks about the learner."""
    return record(
        {"url": uris()},
        {
            "name": pick(("Capstone report", "Lab notebook", "Video of practical"), 120),
            "mediaType": st.sampled_from(MEDIA_TYPES),
            "narrative": sentences(NARRATIVES),
            "digest": digests(),
        },
    )


def evidence_lists() -> Strategy[list[Data]]:
    return small_lists(evidence(), 2)


def event_ids() -> Strategy[str]:
    """CloudEvents ids as issuers mint them: UUIDs, hex UUIDs or sequence ids."""
    return st.one_of(
        st.uuids().map(str),
        st.uuids().map(lambda u: u.hex),
        st.builds(
            lambda prefix, n: f"{prefix}-{n:08d}",
            st.sampled_from(("evt", "msg", "uni-north", "hr")),
            st.integers(0, 10**8 - 1),
        ),
    )


def event_refs(source: str | None = None) -> Strategy[Data]:
    sources = st.just(source) if source else st.sampled_from([i.source for i in ALL_ISSUERS])
    return st.fixed_dictionaries({"source": sources, "id": event_ids()})


# -- people (personal data) ------------------------------------------------------------------


def person_name_records() -> Strategy[Data]:
    return record(
        {"given": pick(GIVEN, 60)},
        {"family": pick(FAMILY, 60), "preferred": st.sampled_from(("Zo", "Seun", "Tom", "小华"))},
    )


EMAIL_LOCALS = ("zoe.angstrom", "li.hua", "oluwaseun.a", "tomas+ledger", "m.ivanova")
EMAIL_DOMAINS = ("mail.example", "student.uni-north.example", "post.example")


def contacts() -> Strategy[Data]:
    email = st.builds(
        lambda local, n, domain: f"{local}{n}@{domain}",
        st.sampled_from(EMAIL_LOCALS),
        st.integers(0, 9999),
        st.sampled_from(EMAIL_DOMAINS),
    )
    phone = st.builds(
        lambda cc, n: f"+{cc} {n}",
        st.sampled_from(("44", "353", "49", "86", "234", "1")),
        st.integers(10**8, 10**10 - 1),
    )
    address = record(
        {"country": st.sampled_from(COUNTRIES)},
        {
            "street": pick(("221B Baker Street", "Hauptstraße 5", "中关村大街1号"), 120),
            "locality": pick(("London", "Köln", "Dún Laoghaire", "北京"), 80),
            "region": st.sampled_from(("Greater London", "NRW", "Co. Dublin")),
            "postalCode": st.sampled_from(("NW1 6XE", "50667", "A96 K2X0", "100080")),
        },
    )
    fields = {"email": email, "phone": phone, "address": address}
    # At least one field: pick which one is certainly there, the others may be.
    return st.sampled_from(sorted(fields)).flatmap(
        lambda must: record({must: fields[must]}, {k: v for k, v in fields.items() if k != must})
    )


def titles(pool: tuple[str, ...]) -> Strategy[str]:
    return pick(pool, 120)
