"""Fetching a status list credential over HTTP for `ledger verify` and `POST /v1/verify`:
https only (plain http on loopback too where the caller allows it: `ledger verify` on one's
own machine, and the tests; never the server, which must not be steered at its own
neighbours), with a timeout and a size limit, so a slow or hostile list server can delay a
verification but never stall it."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from credentials.statuslist import Fetch

TIMEOUT_S = 5.0
MAX_BYTES = 2 << 20


def http_fetch(
    *, timeout_s: float = TIMEOUT_S, max_bytes: int = MAX_BYTES, loopback_http: bool = False
) -> Fetch:
    """A ``Fetch`` reading list credentials over HTTP (``loopback_http``: plain http to a
    loopback address too).

    Raises (from the returned function):
        OSError: the URL is not https (nor http on loopback), the server cannot be reached
            within ``timeout_s``, answers an error, or sends more than ``max_bytes`` or
            something that is not a JSON object. ``None`` for a 404.
    """

    def fetch(url: str) -> Mapping[str, Any] | None:
        deadline = time.monotonic() + 2 * timeout_s  # a server that trickles bytes stops here
        if not _allowed(url, loopback_http):
            raise OSError(
                "only https lists are fetched" + (" (or http on loopback)" if loopback_http else "")
            )
        if not loopback_http:
            _public_host(url)
        try:
            with (
                httpx.Client(timeout=timeout_s, follow_redirects=False) as client,
                client.stream(
                    "GET", url, headers={"Accept": "application/vc+ld+json, application/json"}
                ) as answer,
            ):
                if answer.status_code == 404:
                    return None
                if answer.status_code != 200:
                    raise OSError(f"the list server answered {answer.status_code}")
                body = bytearray()
                for chunk in answer.iter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise OSError(f"the list is larger than {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise OSError("the list server is too slow")
        except httpx.HTTPError as exc:
            raise OSError(f"the list could not be fetched: {type(exc).__name__}") from None
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise OSError("the list is not JSON") from None
        if not isinstance(document, dict):
            raise OSError("the list is not a JSON object")
        return document

    return fetch


def _public_host(url: str) -> None:
    """Refuse a host that resolves to a loopback, private, link-local or otherwise
    non-public address: a presented credential must not steer the server at its own
    network. (A name that resolves differently a moment later is not caught here.)"""
    host = urlsplit(url).hostname or ""
    try:
        found = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise OSError(f"the list's host does not resolve ({type(exc).__name__})") from None
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).partition("%")[0])
        if not ip.is_global:
            raise OSError("the list's host is not a public address")


def _allowed(url: str, loopback_http: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    if parts.scheme != "http" or not loopback_http:
        return False
    try:
        return ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return parts.hostname == "localhost"
