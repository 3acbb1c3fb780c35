"""The fixed issuers generated events come from, and which types each may publish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.records import LEDGER_SOURCE
from schemas.catalogue import load_catalogue
from tests.strategies.base import Data, Strategy


def _types(*categories: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    names = {t.name for t in load_catalogue() if t.category in categories}
    return frozenset(names | {f"org.lll.{e}.v1" for e in extra})


@dataclass(frozen=True)
class Issuer:
    """A publisher of events.

    Attributes:
        id: short stable id, as registered (also names its Kafka topic).
        source: the CloudEvents ``source`` of its events.
        kind: institution, employer or ledger.
        types: the event type names it may publish.
        name: display name, used for organisations in the events it publishes.
        country: where it is, for organisations in its events.
    """

    id: str
    source: str
    kind: str
    types: frozenset[str]
    name: str = ""
    country: str = "GB"

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories its types fall in (what ``ledger issuers add --types`` accepts)."""
        return tuple(sorted({t.split(".")[2] for t in self.types}))

    def may_publish(self, type_name: str) -> bool:
        return type_name in self.types


_INSTITUTION = _types("learning", "credentials", "corrections")
_EMPLOYER = _types(
    "work",
    "corrections",
    extra=("credentials.issued", "credentials.revoked", "credentials.endorsed"),
)

UNI_NORTH = Issuer(
    "uni-north",
    "https://registrar.uni-north.example",
    "institution",
    _INSTITUTION,
    "University of the North",
)
CITY_COLLEGE = Issuer(
    "city-college",
    "https://records.citycollege.example",
    "institution",
    _INSTITUTION,
    "Coláiste na Cathrach",
    "IE",
)
CODECAMP = Issuer(
    "codecamp",
    "https://api.codecamp.example/ledger",
    "institution",
    _INSTITUTION,
    "CodeCamp Bootcamps",
    "DE",
)
NORTHWIND = Issuer(
    "northwind",
    "https://hr.northwind.example",
    "employer",
    _EMPLOYER,
    "Northwind Health Trust",
)
BRIGHTWORKS = Issuer(
    "brightworks",
    "urn:brightworks:hr",
    "employer",
    _EMPLOYER,
    "Brightworks Ingeniería S.L.",
    "ES",
)
LEDGER = Issuer(
    "ledger",
    LEDGER_SOURCE,
    "ledger",
    _types("learner"),
    "Lifelong Learner Ledger",
)

# The external issuers, each registrable with the ledger's issuer registry. The ledger
# itself publishes the learner-side types and is always registered, so it is kept apart:
# iterate ALL_ISSUERS for every publisher.
ISSUERS: tuple[Issuer, ...] = (UNI_NORTH, CITY_COLLEGE, CODECAMP, NORTHWIND, BRIGHTWORKS)
ALL_ISSUERS: tuple[Issuer, ...] = (*ISSUERS, LEDGER)
BY_SOURCE = {i.source: i for i in ALL_ISSUERS}


def publishers(type_name: str) -> list[Issuer]:
    """The issuers that may publish ``type_name``."""
    return [i for i in ALL_ISSUERS if i.may_publish(type_name)]


# Builds the data strategy of one event type for the issuer publishing it.
DataFactory = Callable[[Issuer], Strategy[Data]]
