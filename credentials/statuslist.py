"""W3C Bitstring Status List v1.0: the list, the credential that publishes it, and the check
of a credential's status against it.

A list is a bitstring of at least 131,072 entries (the specification's minimum, for group
privacy: one list hides which of many credentials a verifier asks about), index 0 the
most significant bit of the first byte, GZIP-compressed and written as multibase base64url
(``u…``, no padding) in the ``encodedList`` of a ``BitstringStatusListCredential``. A
credential names its entry with a ``BitstringStatusListEntry`` (purpose ``revocation`` or
``suspension``, the list credential's URL and the index, a decimal string). A set bit means
the purpose applies: revoked, or suspended.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import hmac
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from credentials.errors import CredentialError
from credentials.verification import Verification, issuer_id

MIN_ENTRIES: Final = 131_072
MAX_ENTRIES: Final = 1 << 27  # 16 MiB of bits: a bound on what a fetched list may inflate to
ENTRY: Final = "BitstringStatusListEntry"
LIST_CREDENTIAL: Final = "BitstringStatusListCredential"
LIST: Final = "BitstringStatusList"
PURPOSES: Final = ("revocation", "suspension")
V2: Final = "https://www.w3.org/ns/credentials/v2"


class StatusListError(CredentialError):
    """A status list or entry breaks a rule of the specification (the message names it)."""


class Bitstring:
    """A list's entries, one bit each, index 0 first (the most significant bit of byte 0)."""

    def __init__(self, size: int = MIN_ENTRIES, data: bytes | None = None) -> None:
        if size % 8 or size <= 0:
            raise ValueError("a bitstring's size is a positive multiple of 8")
        self._bits = bytearray(data if data is not None else size // 8)
        if len(self._bits) * 8 != size:
            raise ValueError("data does not hold size bits")

    def __len__(self) -> int:
        return len(self._bits) * 8

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self._bits[index // 8] & (0x80 >> (index % 8)))

    def set(self, index: int, value: bool = True) -> None:
        self._check(index)
        if value:
            self._bits[index // 8] |= 0x80 >> (index % 8)
        else:
            self._bits[index // 8] &= ~(0x80 >> (index % 8)) & 0xFF

    def encode(self) -> str:
        """``encodedList``: multibase base64url of the GZIP-compressed bits (the same bits
        always give the same text: no time in the GZIP header)."""
        compressed = gzip.compress(bytes(self._bits), mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")

    @classmethod
    def decode(cls, encoded: object) -> Bitstring:
        """The bits of an ``encodedList``.

        Raises:
            StatusListError: not multibase base64url of GZIP data, or shorter than the
                specification's minimum, or longer than this ledger reads.
        """
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("encodedList: must be multibase base64url (start with 'u')")
        text = encoded[1:]
        try:
            compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
                data = stream.read(MAX_ENTRIES // 8 + 1)
        except (ValueError, OSError, EOFError) as exc:
            raise StatusListError(f"encodedList: not base64url of GZIP data ({exc})") from None
        if len(data) * 8 < MIN_ENTRIES:
            raise StatusListError(f"encodedList: fewer than {MIN_ENTRIES} entries")
        if len(data) * 8 > MAX_ENTRIES:
            raise StatusListError(f"encodedList: more than {MAX_ENTRIES} entries")
        return cls(len(data) * 8, data)

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is outside a list of {len(self)} entries")


def slot(position: int, key: bytes, *, entries: int = MIN_ENTRIES) -> tuple[int, int]:
    """Where the credential issued at log ``position`` sits: (list number, index).

    Each list covers ``entries`` consecutive log positions, and within it the index is
    those positions shuffled by a keyed permutation: unique for every position, the same
    however often and in whatever order it is computed (a rebuild gives the same lists),
    and, without ``key``, no clue to when the credential was issued.

    Args:
        position: the global log position of the event that issued the credential (0 or more).
        key: a secret that never changes for the life of the lists.
        entries: entries per list, a power of two of at least 2**4.
    """
    if position < 0:
        raise ValueError("position: 0 or more")
    bits = entries.bit_length() - 1
    if entries != 1 << bits or bits < 4:
        raise ValueError("entries: a power of two of at least 16")
    return position >> bits, _permute(position & (entries - 1), key, bits)


# Every export names each of its credentials' slots again: remember the recent ones (a few
# µs of HMACs each otherwise, milliseconds for a large record).
_remembered_slot = functools.lru_cache(maxsize=1 << 16)(slot)


def _permute(value: int, key: bytes, bits: int) -> int:
    """A keyed permutation of [0, 2**bits): a 4-round balanced Feistel network on the next
    even width, walking the cycle until the result falls in range."""
    width = bits + (bits & 1)
    half = width // 2
    mask = (1 << half) - 1
    while True:
        left, right = value >> half, value & mask
        for round_ in range(4):
            digest = hmac.new(key, bytes([round_]) + right.to_bytes(4, "big"), hashlib.sha256)
            left, right = right, left ^ (int.from_bytes(digest.digest()[:4], "big") & mask)
        value = (left << half) | right
        if value < 1 << bits:
            return value


def _decimal(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes '²' and '١', which ``int`` refuses or
    reads as another number)."""
    return text.isascii() and text.isdecimal()


def status_entry(list_url: str, index: int, purpose: str) -> dict[str, str]:
    """The ``credentialStatus`` entry naming ``index`` of the list at ``list_url``."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose: one of {', '.join(PURPOSES)}")
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def list_credential(
    list_url: str,
    *,
    issuer: str,
    purpose: str,
    bits: Bitstring,
    valid_from: str,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` publishing ``bits`` at ``list_url``."""
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": LIST,
        "statusPurpose": purpose,
        "encodedList": bits.encode(),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    return {
        "@context": [V2],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": subject,
    }


@dataclass(frozen=True)
class Status:
    """One entry's verdict: ``revoked``, ``suspended``, ``valid`` (the bit is clear) or
    ``unknown`` (the list could not be had or trusted; ``reason`` says why)."""

    purpose: str
    state: str
    reason: str = ""


# The list credential at a URL (``None``: not found); raises OSError when it cannot be had.
Fetch = Callable[[str], Mapping[str, Any] | None]
# Whether a list credential's proof holds (and its key is its issuer's).
VerifyList = Callable[[Mapping[str, Any]], Verification]


def check_status(credential: Mapping[str, Any], fetch: Fetch, verify: VerifyList) -> list[Status]:
    """The status of each ``BitstringStatusListEntry`` of ``credential`` (entries of other
    types are not judged here).

    A list counts only if it verifies, is issued by the credential's own issuer, and names
    the entry's purpose; otherwise, and when it cannot be fetched, the status is unknown.
    """
    entries = credential.get("credentialStatus")
    listed = entries if isinstance(entries, list) else [entries] if entries else []
    issuer = issuer_id(credential)
    return [
        _judge(entry, issuer, fetch, verify)
        for entry in listed
        if isinstance(entry, Mapping) and entry.get("type") == ENTRY
    ]


def _judge(
    entry: Mapping[str, Any], issuer: str | None, fetch: Fetch, verify: VerifyList
) -> Status:
    purpose = str(entry.get("statusPurpose", ""))
    url, raw_index = entry.get("statusListCredential"), entry.get("statusListIndex")
    if purpose not in PURPOSES or not isinstance(url, str):
        return Status(purpose, "unknown", "the entry names no known purpose or no list")
    if not isinstance(raw_index, str) or not _decimal(raw_index) or len(raw_index) > 12:
        return Status(purpose, "unknown", "statusListIndex is not a decimal string")
    try:
        found = fetch(url)
    except OSError as exc:
        return Status(purpose, "unknown", f"the list could not be fetched ({type(exc).__name__})")
    if found is None:
        return Status(purpose, "unknown", "the list was not found")
    outcome = verify(found)
    if not outcome:
        return Status(purpose, "unknown", f"the list does not verify: {outcome.reason}")
    if issuer_id(found) != issuer:
        return Status(purpose, "unknown", "the list is not issued by the credential's issuer")
    subject = found.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("statusPurpose") != purpose:
        return Status(purpose, "unknown", "the list is not for this purpose")
    try:
        bits = Bitstring.decode(subject.get("encodedList"))
    except StatusListError as exc:
        return Status(purpose, "unknown", str(exc))
    index = int(raw_index)
    if index >= len(bits):
        return Status(purpose, "unknown", "statusListIndex is beyond the list's end")
    if bits.get(index):
        return Status(purpose, "revoked" if purpose == "revocation" else "suspended")
    return Status(purpose, "valid")


@dataclass(frozen=True)
class StatusLists:
    """Where a ledger publishes its status lists and how it places credentials in them.

    List ``n`` for ``purpose`` is at ``{base_url}/{purpose}/{n}``; a credential takes the
    slot of the log position that issued it (see :func:`slot`).

    Attributes:
        base_url: e.g. ``https://ledger.example.org/v1/status`` (no trailing slash).
        key: the secret :func:`slot` shuffles with.
    """

    base_url: str
    key: bytes = field(repr=False)

    def url(self, number: int, purpose: str = "revocation") -> str:
        return f"{self.base_url}/{purpose}/{number}"

    def entry(self, position: int, purpose: str = "revocation") -> dict[str, str]:
        """The ``credentialStatus`` of the credential issued at log ``position``."""
        number, index = _remembered_slot(position, self.key)
        return status_entry(self.url(number, purpose), index, purpose)

    def locate(self, url: str) -> tuple[str, int] | None:
        """(purpose, list number) of one of these lists' URLs; ``None`` for any other URL."""
        prefix = self.base_url + "/"
        if not url.startswith(prefix):
            return None
        purpose, _, number = url.removeprefix(prefix).partition("/")
        if purpose not in PURPOSES or not _decimal(number) or len(number) > 12:
            return None
        return purpose, int(number)
