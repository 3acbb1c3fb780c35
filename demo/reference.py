"""Reference data of the demo: issuers, names, skills (by framework), occupations."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

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
        return {**asdict(self), "types": list(self.types)}


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


def stable_uuid(text: str) -> str:
    return str(UUID(bytes=hashlib.sha256(text.encode()).digest()[:16], version=4))


def skill(name: str, framework: str = "ESCO") -> dict[str, Any]:
    if framework == "ESCO":
        return {
            "uri": f"http://data.europa.eu/esco/skill/{stable_uuid(name)}",
            "framework": "ESCO",
            "name": name,
        }
    if framework == "OSN-RSD":
        return {
            "uri": f"https://osn.example/rsd/{stable_uuid(name)}",
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
