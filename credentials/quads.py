"""RDF datasets as JSON-storable quads, and the canonical N-Quads of a document made of parts.

The dataset of a part (a signed credential, say) can be computed once and kept beside it.
A larger document holding such parts is then canonicalised from its parts' quads without
expanding their JSON-LD again: blank nodes stay local to their part (a JSON-LD node
without an id is a new blank node wherever it appears) and quads without blank nodes are
shared, so the union is the whole document's dataset provided each part expands inside
the whole as it did alone. That proviso is the caller's to guarantee (and to test).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from credentials import rdfc
from credentials.canonical import dataset
from credentials.errors import CanonicalizationError

# An IRI, a blank node ("_:label"), or a literal as [value, datatype] / [value, datatype, lang].
Term = str | list[str]
# [subject, predicate, object, graph name or None for the default graph]
Quad = list[Term | None]

_DEFAULT = "@default"


def quads_of(document: Mapping[str, Any], *, safe: bool = True) -> list[Quad]:
    """The RDF quads of a JSON-LD document, in a form JSON can store.

    Raises:
        ContextNotAllowedError: a context is not allow-listed.
        CanonicalizationError: the document is not valid JSON-LD or (when safe) has
            undefined terms.
    """
    found: list[Quad] = []
    for graph, triples in dataset(document, safe=safe).items():
        name = None if graph == _DEFAULT else graph
        for triple in triples:
            found.append(
                [
                    triple["subject"]["value"],
                    triple["predicate"]["value"],
                    _stored(triple["object"]),
                    name,
                ]
            )
    return found


def canonicalize_parts(parts: Iterable[Sequence[Quad] | str]) -> str:
    """The canonical N-Quads (URDNA2015) of the union of the parts' datasets.

    Each part's blank nodes are kept apart from every other part's; a quad without blank
    nodes that several parts hold counts once. A part is its quads, or their JSON text (as
    a read model keeps them): a text is checked and converted once per process and then
    remembered, since exports hold the same issued credentials again and again.

    Raises:
        CanonicalizationError: a quad is malformed.
    """
    union: list[rdfc.Quad] = []
    shared: set[tuple[Any, ...]] = set()
    for number, part in enumerate(parts):
        prefix = f"_:p{number}-"
        prepared = _prepared_text(part) if isinstance(part, str) else _prepare(part)
        for subject, predicate, obj, graph, key in prepared:
            if key is not None:
                if key in shared:
                    continue
                shared.add(key)
                union.append((subject, predicate, obj, graph))
            else:
                union.append(
                    (
                        _local(subject, prefix),
                        predicate,
                        obj if isinstance(obj, tuple) else _local(obj, prefix),
                        None if graph is None else _local(graph, prefix),
                    )
                )
    return rdfc.canonical_nquads(union)


# A checked quad: subject, predicate, object (an IRI or blank node label, or a literal),
# graph name, and the key that tells it apart when it has no blank node (None when it has).
_Prepared = tuple[str, str, "str | rdfc.Literal", "str | None", "tuple[Any, ...] | None"]


@functools.lru_cache(maxsize=8192)
def _prepared_text(text: str) -> tuple[_Prepared, ...]:
    try:
        quads = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise CanonicalizationError("malformed stored part: not JSON") from None
    if not isinstance(quads, list):
        raise CanonicalizationError("malformed stored part: not a list of quads")
    return _prepare(quads)


def _prepare(part: Sequence[Quad]) -> tuple[_Prepared, ...]:
    prepared: list[_Prepared] = []
    for quad in part:
        if not isinstance(quad, list | tuple) or len(quad) != 4:
            raise CanonicalizationError(f"malformed stored quad: {quad!r}")
        subject, predicate, obj, graph = quad
        if not isinstance(subject, str) or not isinstance(predicate, str):
            raise CanonicalizationError(f"malformed stored quad: {quad!r}")
        if graph is not None and not isinstance(graph, str):
            raise CanonicalizationError(f"malformed stored graph name: {graph!r}")
        if isinstance(obj, list):
            converted: str | rdfc.Literal = _literal(obj)
        elif isinstance(obj, str):
            converted = obj
        else:
            raise CanonicalizationError(f"malformed stored term: {obj!r}")
        key = None
        if not (_blank(subject) or _blank(obj) or _blank(graph)):
            key = (subject, predicate, converted, graph)
        prepared.append((subject, predicate, converted, graph, key))
    return tuple(prepared)


def _stored(term: Mapping[str, Any]) -> Term:
    if term["type"] != "literal":
        return str(term["value"])
    literal = [str(term["value"]), str(term["datatype"])]
    if term.get("language"):
        literal.append(str(term["language"]))
    return literal


def _blank(term: object) -> bool:
    return isinstance(term, str) and term.startswith("_:")


def _local(term: object, prefix: str) -> str:
    """An IRI as it is, a blank node relabelled into its part's namespace."""
    if not isinstance(term, str):
        raise CanonicalizationError(f"malformed stored term: {term!r}")
    return prefix + term[2:] if term.startswith("_:") else term


def _literal(term: list[str]) -> rdfc.Literal:
    if len(term) not in (2, 3) or not all(isinstance(t, str) for t in term):
        raise CanonicalizationError(f"malformed stored literal: {term!r}")
    return (term[0], term[1], term[2] if len(term) > 2 else None)
