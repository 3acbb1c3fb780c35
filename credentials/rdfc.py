"""RDF Dataset Canonicalization (RDFC-1.0, the URDNA2015 algorithm) over plain tuples.

The same algorithm as pyld's ``URDNA2015`` class, with the same output byte for byte (the
tests compare them on the 1EdTech vectors, on exports and on random datasets full of
symmetric blank nodes), several times faster: each quad is serialised once into its parts
instead of deep-copied per blank node, and the dataset is plain tuples rather than nested
dicts. A signed ClrCredential holding a thousand events' credentials spends most of its
export time here. One difference: a quad naming the same blank node twice (``_:x p _:x``)
counts once among that node's quads, as in rdf-canonize, the spec editors' implementation
(pyld counts it twice).

A quad is ``(subject, predicate, object, graph)``: IRIs and blank nodes (``_:label``) are
strings, a literal object is ``(value, datatype, language or None)``, the default graph is
``None``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence

from credentials.errors import CanonicalizationError

Literal = tuple[str, str, str | None]
Quad = tuple[str, str, str | Literal, str | None]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
# Hash N-Degree Quads explores permutations of related blank nodes: a dataset built to
# make that explode (a "poison graph") is refused rather than hashed for hours.
MAX_N_DEGREE_CALLS = 50_000


def canonical_nquads(quads: Iterable[Quad]) -> str:
    """The canonical N-Quads of a dataset: blank nodes relabelled ``_:c14n<i>``, lines
    sorted.

    Raises:
        CanonicalizationError: a quad is malformed, or the dataset needs more work than
            any credential could (see :data:`MAX_N_DEGREE_CALLS`).
    """
    return _Canonicalizer(list(quads)).run()


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace('"', '\\"')
    )


def _term(term: str) -> str:
    return term if term.startswith("_:") else f"<{term}>"


def _object(term: str | Literal) -> str:
    if isinstance(term, str):
        return _term(term)
    try:
        value, datatype, language = term
    except ValueError:
        raise CanonicalizationError(f"malformed literal: {term!r}") from None
    text = f'"{_escape(value)}"'
    if datatype == RDF_LANGSTRING:
        return text + f"@{language}" if language else text
    return text if datatype == XSD_STRING else text + f"^^<{datatype}>"


class _Issuer:
    """Issues ``<prefix><counter>`` identifiers, remembering the order it issued them in."""

    __slots__ = ("existing", "order", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.existing: dict[str, str] = {}
        self.order: list[str] = []

    def issue(self, old: str) -> str:
        found = self.existing.get(old)
        if found is None:
            found = self.existing[old] = f"{self.prefix}{len(self.order)}"
            self.order.append(old)
        return found

    def copy(self) -> _Issuer:
        twin = _Issuer(self.prefix)
        twin.existing = dict(self.existing)
        twin.order = list(self.order)
        return twin


class _Canonicalizer:
    def __init__(self, quads: list[Quad]) -> None:
        self.quads = quads
        # Each quad as its serialised parts; blank nodes stay as their labels (a part
        # starting with "_:"), to be substituted.
        self.parts: list[tuple[str, str, str, str | None]] = []
        self.mentions: dict[str, list[int]] = {}
        for index, quad in enumerate(quads):
            if len(quad) != 4:
                raise CanonicalizationError(f"malformed quad: {quad!r}")
            s, p, o, g = quad
            if not isinstance(s, str) or not isinstance(p, str):
                raise CanonicalizationError(f"malformed quad: {quad!r}")
            self.parts.append((_term(s), f"<{p}>", _object(o), None if g is None else _term(g)))
            for node in (s, o, g):
                if isinstance(node, str) and node.startswith("_:"):
                    seen = self.mentions.setdefault(node, [])
                    if not seen or seen[-1] != index:
                        seen.append(index)
        self.first_degree: dict[str, str] = {}
        self.canonical = _Issuer("_:c14n")
        self.calls = 0

    def run(self) -> str:
        hash_to_nodes: dict[str, list[str]] = {}
        for node in self.mentions:
            hash_to_nodes.setdefault(self.hash_first_degree(node), []).append(node)
        # Unique first-degree hashes get canonical labels in hash order; the rest are
        # told apart by their neighbourhoods (Hash N-Degree Quads), group by group.
        for _, nodes in sorted(hash_to_nodes.items()):
            if len(nodes) == 1:
                self.canonical.issue(nodes[0])
        for _, nodes in sorted(hash_to_nodes.items()):
            if len(nodes) == 1:
                continue
            results = []
            for node in nodes:
                if node in self.canonical.existing:
                    continue
                issuer = _Issuer("_:b")
                issuer.issue(node)
                results.append(self.hash_n_degree(node, issuer))
            for _, issuer in sorted(results, key=lambda r: r[0]):
                for existing in issuer.order:
                    self.canonical.issue(existing)
        labels = self.canonical.existing
        lines = [
            f"{labels.get(s, s)} {p} {labels.get(o, o)}"
            + ("" if g is None else f" {labels.get(g, g)}")
            + " .\n"
            for s, p, o, g in self.parts
        ]
        lines.sort()
        return "".join(lines)

    def hash_first_degree(self, node: str) -> str:
        found = self.first_degree.get(node)
        if found is not None:
            return found
        lines = []
        for index in self.mentions[node]:
            s, p, o, g = self.parts[index]
            line = f"{_mask(s, node)} {p} {_mask(o, node)}"
            if g is not None:
                line += f" {_mask(g, node)}"
            lines.append(line + " .\n")
        lines.sort()
        found = self.first_degree[node] = hashlib.sha256("".join(lines).encode()).hexdigest()
        return found

    def hash_related(self, related: str, index: int, issuer: _Issuer, position: str) -> str:
        if related in self.canonical.existing:
            label = self.canonical.existing[related]
        elif related in issuer.existing:
            label = issuer.existing[related]
        else:
            label = self.hash_first_degree(related)
        text = position
        if position != "g":
            text += self.parts[index][1]
        return hashlib.sha256((text + label).encode()).hexdigest()

    def hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        self.calls += 1
        if self.calls > MAX_N_DEGREE_CALLS:
            raise CanonicalizationError(
                "canonicalisation refused: the dataset's blank nodes are too symmetric "
                f"(over {MAX_N_DEGREE_CALLS} Hash N-Degree Quads calls)"
            )
        related_by_hash: dict[str, list[str]] = {}
        for index in self.mentions[node]:
            s, _, o, g = self.quads[index]
            for position, component in (("s", s), ("o", o), ("g", g)):
                if isinstance(component, str) and component.startswith("_:") and component != node:
                    digest = self.hash_related(component, index, issuer, position)
                    related_by_hash.setdefault(digest, []).append(component)
        data = hashlib.sha256()
        for digest, related in sorted(related_by_hash.items()):
            data.update(digest.encode())
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            for permutation in itertools.permutations(sorted(related)):
                candidate = issuer.copy()
                recursion: list[str] = []
                path = self._labels(permutation, candidate, recursion, chosen_path)
                if path is None:
                    continue
                for other in recursion:
                    result_hash, candidate = self.hash_n_degree(other, candidate)
                    path += candidate.issue(other) + f"<{result_hash}>"
                    if _cannot_beat(path, chosen_path):
                        break
                else:
                    if not chosen_path or path < chosen_path:
                        chosen_path, chosen_issuer = path, candidate
            data.update(chosen_path.encode())
            assert chosen_issuer is not None  # the first permutation is always chosen
            issuer = chosen_issuer
        return data.hexdigest(), issuer

    def _labels(
        self, permutation: Sequence[str], issuer: _Issuer, recursion: list[str], chosen: str
    ) -> str | None:
        """Hash N-Degree Quads 5.4.4: the path of a permutation's labels, issuing labels in
        ``issuer`` and noting the nodes to recurse into; None once it cannot beat
        ``chosen``."""
        path = ""
        for related in permutation:
            if related in self.canonical.existing:
                path += self.canonical.existing[related]
            else:
                if related not in issuer.existing:
                    recursion.append(related)
                path += issuer.issue(related)
            if _cannot_beat(path, chosen):
                return None
        return path


def _cannot_beat(path: str, chosen: str) -> bool:
    return bool(chosen) and len(path) >= len(chosen) and path > chosen


def _mask(part: str, node: str) -> str:
    if not part.startswith("_:"):
        return part
    return "_:a" if part == node else "_:z"


def quads_of_dataset(data: dict[str, list[dict[str, object]]]) -> list[Quad]:
    """pyld's dataset form (graph name → triples of typed terms) as plain quads.

    Raises:
        CanonicalizationError: a term is malformed.
    """
    quads: list[Quad] = []
    for graph, triples in data.items():
        name = None if graph == "@default" else graph
        for triple in triples:
            if not isinstance(triple, dict):
                raise CanonicalizationError(f"malformed RDF triple: {triple!r}")
            subject, predicate = _node(triple.get("subject")), _node(triple.get("predicate"))
            if not isinstance(subject, str) or not isinstance(predicate, str):
                raise CanonicalizationError(f"malformed RDF triple: {triple!r}")
            quads.append((subject, predicate, _node(triple.get("object")), name))
    return quads


def _node(term: object) -> str | Literal:
    if not isinstance(term, dict):
        raise CanonicalizationError(f"malformed RDF term: {term!r}")
    kind, value = term.get("type"), term.get("value")
    if not isinstance(value, str):
        raise CanonicalizationError(f"malformed RDF term: {term!r}")
    if kind == "literal":
        language = term.get("language")
        return (value, str(term.get("datatype")), language if isinstance(language, str) else None)
    if (kind == "blank node") != value.startswith("_:"):
        raise CanonicalizationError(f"malformed RDF term: {term!r}")
    return value
