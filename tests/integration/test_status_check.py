"""`ledger verify`'s status check over real HTTP on loopback: a revoked credential fails, a
clear bit passes, and a list that is missing, slow, down or untrustworthy leaves the status
unknown (a warning) without stalling the verification."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials import dataintegrity
from credentials.keys import did_key_of
from credentials.presented import verify_presented
from credentials.statusfetch import http_fetch
from credentials.statuslist import Bitstring, list_credential, status_entry

REPO = Path(__file__).resolve().parents[2]
KEY = Ed25519PrivateKey.generate()
METHOD = did_key_of(KEY)
DID = METHOD.partition("#")[0]
REVOKED_INDEX = 1234


class Lists(http.server.ThreadingHTTPServer):
    """Serves ``documents`` by path; ``/slow/…`` answers after ``delay`` seconds."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.documents: dict[str, bytes] = {}
        self.delay = 0.0
        self.release = threading.Event()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Lists

    def do_GET(self) -> None:
        if self.path.startswith("/slow/"):
            self.server.release.wait(timeout=60)
        body = self.server.documents.get(self.path.removeprefix("/slow"))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/vc+ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def lists() -> Iterator[Lists]:
    server = Lists()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def publish(lists: Lists, path: str, *, key: Ed25519PrivateKey = KEY) -> str:
    bits = Bitstring()
    bits.set(REVOKED_INDEX)
    url = lists.base + path
    method = did_key_of(key)
    unsigned = list_credential(
        url,
        issuer=method.partition("#")[0],
        purpose="revocation",
        bits=bits,
        valid_from="2026-01-01T00:00:00Z",
    )
    lists.documents[path] = orjson.dumps(dataintegrity.sign(unsigned, key, method))
    return url


def credential(list_url: str, index: int) -> str:
    unsigned = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:3f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": DID, "type": ["Profile"], "name": "Status College"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "SQL Foundations",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://status.example/achievements/sql",
                "type": ["Achievement"],
                "name": "SQL Foundations",
                "criteria": {"narrative": "Passed."},
            },
        },
        "credentialStatus": status_entry(list_url, index, "revocation"),
    }
    return orjson.dumps(dataintegrity.sign(unsigned, KEY, METHOD)).decode()


def test_a_revoked_credential_fails_and_a_clear_bit_passes(lists: Lists) -> None:
    url = publish(lists, "/lists/1")
    revoked = verify_presented(credential(url, REVOKED_INDEX), fetch=http_fetch(loopback_http=True))
    assert not revoked.ok
    (check,) = revoked.checks
    assert [(s.purpose, s.state) for s in check.status] == [("revocation", "revoked")]
    assert "revocation list says it is revoked" in check.reason
    standing = verify_presented(
        credential(url, REVOKED_INDEX + 1), fetch=http_fetch(loopback_http=True)
    )
    assert standing.ok
    assert [s.state for s in standing.checks[0].status] == ["valid"]
    assert verify_presented(credential(url, REVOKED_INDEX)).ok  # no fetch: not checked


def test_a_list_that_cannot_be_had_or_trusted_leaves_the_status_unknown(lists: Lists) -> None:
    publish(lists, "/lists/1")  # what the slow path serves, too late
    other = publish(lists, "/lists/theirs", key=Ed25519PrivateKey.generate())
    cases = {
        "missing": lists.base + "/lists/none",
        "another issuer's": other,
        "down": nobody_listens(),
        "slow": lists.base + "/slow/lists/1",
    }
    for case, url in cases.items():
        started = time.monotonic()
        report = verify_presented(
            credential(url, REVOKED_INDEX), fetch=http_fetch(timeout_s=1, loopback_http=True)
        )
        assert report.ok, case  # unknown is not a failure
        (check,) = report.checks
        assert [s.state for s in check.status] == ["unknown"], case
        assert check.warnings, case
        assert time.monotonic() - started < 30, case  # never stalls (ceiling, not a timing)


def nobody_listens() -> str:
    """A loopback URL whose port had a listener a moment ago and has none now."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/lists/1"


def test_ledger_verify_prints_the_status_and_fails_a_revoked_credential(
    lists: Lists, tmp_path: Path
) -> None:
    url = publish(lists, "/lists/1")
    file = tmp_path / "revoked.json"
    file.write_text(credential(url, REVOKED_INDEX))
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", str(file)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "revoked" in done.stdout


def test_only_https_lists_are_fetched_and_loopback_http_only_when_allowed() -> None:
    for fetch in (http_fetch(timeout_s=1), http_fetch(timeout_s=1, loopback_http=True)):
        for url in ("http://status.example/lists/1", "ftp://127.0.0.1/x", "file:///etc/passwd"):
            with pytest.raises(OSError, match="only https"):
                fetch(url)
    with pytest.raises(OSError, match=r"only https lists are fetched$"):
        http_fetch(timeout_s=1)("http://127.0.0.1:9/lists/1")  # the server's own neighbours


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/lists/1",
        "https://localhost/lists/1",
        "https://10.1.2.3/lists/1",
        "https://192.168.0.9/lists/1",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/lists/1",
    ],
)
def test_the_server_never_fetches_a_list_from_its_own_network(url: str) -> None:
    with pytest.raises(OSError, match="not a public address"):
        http_fetch(timeout_s=1)(url)
