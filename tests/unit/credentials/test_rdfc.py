"""Our RDFC-1.0 gives pyld's URDNA2015 output byte for byte, symmetric datasets included."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld.canon import URDNA2015

from credentials.errors import CanonicalizationError
from credentials.rdfc import (
    MAX_N_DEGREE_CALLS,
    RDF_LANGSTRING,
    XSD_STRING,
    canonical_nquads,
    quads_of_dataset,
)

Dataset = dict[str, list[dict[str, Any]]]


def pyld(data: Dataset) -> str:
    result = URDNA2015().main(copy.deepcopy(data), {"format": "application/n-quads"})
    assert isinstance(result, str)
    return result


def term(value: str) -> dict[str, str]:
    return {"type": "blank node" if value.startswith("_:") else "IRI", "value": value}


LITERALS = [
    {"type": "literal", "value": 'say "hi"\n\tthere\\', "datatype": XSD_STRING},
    {"type": "literal", "value": "bonjour", "datatype": RDF_LANGSTRING, "language": "fr"},
    {"type": "literal", "value": "42", "datatype": "http://www.w3.org/2001/XMLSchema#integer"},
]


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    """Small datasets over few blank nodes and predicates: many of them are symmetric
    (ties in first-degree hashes), which is where the algorithm works hardest."""
    blanks = [f"_:n{i}" for i in range(draw(st.integers(1, 7)))]
    subjects = st.sampled_from([*blanks, "http://e/a"])
    objects = st.one_of(
        st.sampled_from([*blanks, "http://e/a", "http://e/b"]).map(term),
        st.sampled_from(LITERALS),
    )
    graphs = st.sampled_from(["@default", "@default", "http://g/1", "_:g0"])
    predicates = st.sampled_from(["http://p/x", "http://p/y"])
    data: Dataset = {}
    seen = set()
    for _ in range(draw(st.integers(1, 14))):
        s, p, o, g = draw(subjects), draw(predicates), draw(objects), draw(graphs)
        if o.get("value") == s:
            continue  # a node naming itself: see the test below
        key = (s, p, repr(sorted(o.items())), g)
        if key not in seen:
            seen.add(key)
            triple = {"subject": term(s), "predicate": term(p), "object": o}
            data.setdefault(g, []).append(triple)
    return data


@settings(max_examples=400, deadline=None)
@given(datasets())
def test_canonical_nquads_equal_pyld_on_random_datasets(data: Dataset) -> None:
    assert canonical_nquads(quads_of_dataset(data)) == pyld(data)


def ring(size: int, tagged_every: int) -> Dataset:
    """Blank nodes in a cycle, some tagged: every node looks alike at first degree."""
    triples = []
    for i in range(size):
        triples.append(
            {
                "subject": term(f"_:r{i}"),
                "predicate": term("http://p/next"),
                "object": term(f"_:r{(i + 1) % size}"),
            }
        )
        if tagged_every and i % tagged_every == 0:
            triples.append(
                {
                    "subject": term(f"_:r{i}"),
                    "predicate": term("http://p/tag"),
                    "object": LITERALS[0],
                }
            )
    return {"@default": triples}


@pytest.mark.parametrize("size", range(2, 9))
@pytest.mark.parametrize("tagged_every", [0, 2, 3])
def test_canonical_nquads_equal_pyld_on_rings(size: int, tagged_every: int) -> None:
    data = ring(size, tagged_every)
    assert canonical_nquads(quads_of_dataset(data)) == pyld(data)


def test_a_quad_naming_its_blank_node_twice_counts_once() -> None:
    """rdf-canonize keeps a node's quads in a set; pyld's list holds this quad twice."""
    loop = [("_:x", "http://p/self", "_:x", None), ("_:x", "http://p/y", "http://e/a", None)]
    assert canonical_nquads(loop) == (
        "_:c14n0 <http://p/self> _:c14n0 .\n_:c14n0 <http://p/y> <http://e/a> .\n"
    )


def test_relabelling_blank_nodes_does_not_change_the_result() -> None:
    data = ring(6, 2)
    renamed = copy.deepcopy(data)
    for triple in renamed["@default"]:
        for position in ("subject", "object"):
            if triple[position]["type"] == "blank node":
                triple[position]["value"] = triple[position]["value"].replace("_:r", "_:other")
    assert canonical_nquads(quads_of_dataset(renamed)) == canonical_nquads(quads_of_dataset(data))


def test_a_dataset_too_symmetric_to_canonicalise_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("credentials.rdfc.MAX_N_DEGREE_CALLS", 3)
    with pytest.raises(CanonicalizationError, match="too symmetric"):
        canonical_nquads(quads_of_dataset(ring(8, 0)))
    assert MAX_N_DEGREE_CALLS > 1000


@pytest.mark.parametrize(
    "bad",
    [
        {
            "@default": [
                {
                    "subject": {"type": "IRI"},
                    "predicate": term("http://p"),
                    "object": term("http://o"),
                }
            ]
        },
        {
            "@default": [
                {
                    "subject": {"type": "IRI", "value": "_:looks-blank"},
                    "predicate": term("http://p"),
                    "object": term("http://o"),
                }
            ]
        },
        {"@default": ["not a triple"]},
    ],
)
def test_a_malformed_dataset_is_refused_with_a_reason(bad: Dataset) -> None:
    with pytest.raises(CanonicalizationError, match="malformed"):
        canonical_nquads(quads_of_dataset(bad))
