"""A static, allow-listed JSON-LD document loader: vendored W3C and 1EdTech contexts, never the network."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any, Final

from credentials.errors import ContextNotAllowedError

# URL → file under credentials/contexts/ (published W3C and 1EdTech contexts, vendored as-is).
CONTEXT_FILES: Final[dict[str, str]] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "2018-credentials-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "ob-v3p0-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json": "clr-v2p0-2.0.1.json",
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-signature-2020-v1.jsonld",
}


def allowed_context_urls() -> frozenset[str]:
    """The context URLs the loader serves; any other URL is refused."""
    return frozenset(CONTEXT_FILES)


@functools.cache
def _read_context(name: str) -> dict[str, Any]:
    text = resources.files("credentials").joinpath("contexts", name).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def load_context(url: str) -> dict[str, Any]:
    """The parsed JSON of an allow-listed context.

    Args:
        url: the context URL exactly as it appears in a document's `@context`.

    Raises:
        ContextNotAllowedError: the URL is not on the allow-list.
    """
    name = CONTEXT_FILES.get(url)
    if name is None:
        raise ContextNotAllowedError(url)
    # A copy, so that a processor that mutates what it is given cannot poison the cache.
    return copy.deepcopy(_read_context(name))


def document_loader(url: str, options: Any = None) -> dict[str, Any]:
    """A pyld `documentLoader` serving only the vendored contexts.

    Args:
        url: the URL pyld asks for.
        options: pyld's loader options (unused).

    Raises:
        ContextNotAllowedError: the URL is not on the allow-list.
    """
    return {"contextUrl": None, "documentUrl": url, "document": load_context(url)}
