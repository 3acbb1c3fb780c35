"""RDF Dataset Canonicalization (URDNA2015 / RDFC-1.0) of JSON-LD documents to N-Quads: pyld
expands the JSON-LD into RDF, :mod:`credentials.rdfc` canonicalises it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from pyld import jsonld
from pyld.context_resolver import ContextResolver

from credentials.contexts import document_loader
from credentials.errors import CanonicalizationError, ContextNotAllowedError
from credentials.rdfc import canonical_nquads, quads_of_dataset

# pyld's RDF dataset: graph name ("@default" or a label) → triples of term dicts.
Dataset = dict[str, list[dict[str, Any]]]


def _refused_context(error: BaseException) -> ContextNotAllowedError | None:
    # pyld wraps loader errors several layers deep; find ours to report the URL.
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ContextNotAllowedError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__ or getattr(current, "cause", None)
    return None


@functools.lru_cache(maxsize=1)
def _context_resolver() -> ContextResolver:
    """One resolver for every canonicalisation: the contexts are static, allow-listed files,
    so their processed form can be kept (twice as fast as resolving them on every call)."""
    return ContextResolver({}, document_loader)


def canonicalize(document: Mapping[str, Any], *, safe: bool = True) -> str:
    """The canonical N-Quads of a JSON-LD document (RDFC-1.0, identical to URDNA2015).

    Args:
        document: a compacted JSON-LD document with its own `@context`.
        safe: refuse properties that the contexts do not define, which expansion would
            otherwise drop silently and so leave unsigned (the "safe mode" of vc-di-eddsa).

    Raises:
        ContextNotAllowedError: the document names a context that is not allow-listed.
        CanonicalizationError: the document is not valid JSON-LD, or (when safe) has
            undefined terms.
    """
    return canonicalize_dataset(dataset(document, safe=safe))


def dataset(document: Mapping[str, Any], *, safe: bool = True) -> Dataset:
    """The RDF dataset a JSON-LD document denotes, in pyld's form (graph name → triples;
    blank nodes labelled as pyld issued them), for :func:`canonicalize_dataset`.

    Args and errors as :func:`canonicalize`.
    """
    result = _process(document, safe=safe)
    if not isinstance(result, dict):
        raise CanonicalizationError("conversion to RDF did not produce a dataset")
    return result


def canonicalize_dataset(data: Dataset) -> str:
    """The canonical N-Quads (URDNA2015) of an RDF dataset in pyld's form, by
    :mod:`credentials.rdfc` (pyld's algorithm, same output, several times faster).

    Raises:
        CanonicalizationError: the dataset is malformed.
    """
    return canonical_nquads(quads_of_dataset(data))


def _process(document: Mapping[str, Any], *, safe: bool) -> object:
    """pyld's toRDF, with our loader and our errors."""
    dropped: list[str] = []

    def on_dropped(term: str | None) -> None:
        dropped.append(str(term))

    processor = jsonld.JsonLdProcessor(on_property_dropped=on_dropped)
    options: dict[str, Any] = {
        "documentLoader": document_loader,
        "contextResolver": _context_resolver(),
    }
    try:
        options["produceGeneralizedRdf"] = False
        result: object = processor.to_rdf(dict(document), options)
    except ContextNotAllowedError:
        raise
    except Exception as error:  # pyld raises JsonLdError but also bare KeyError/TypeError
        refused = _refused_context(error)
        if refused is not None:
            raise ContextNotAllowedError(refused.url) from None
        message = str(error.args[0]) if error.args else type(error).__name__
        raise CanonicalizationError(f"canonicalisation failed: {message}") from error
    if safe and dropped:
        terms = ", ".join(sorted(set(dropped)))
        raise CanonicalizationError(f"undefined JSON-LD terms would be left unsigned: {terms}")
    return result
