"""The event type names the code refers to are types of the catalogue, each named once."""

from __future__ import annotations

from schemas import names
from schemas.catalogue import load_catalogue


def test_names_every_name_is_a_catalogue_type() -> None:
    catalogue = load_catalogue()
    assert [n for n in names.NAMED if n not in catalogue] == []


def test_names_every_constant_is_listed_once() -> None:
    constants = [v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)]
    assert sorted(constants) == sorted(names.NAMED)
    assert len(set(names.NAMED)) == len(names.NAMED)
