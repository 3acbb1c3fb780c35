"""Building blocks shared by every event type's strategy: ids, text, dates and the shared $defs.

Each strategy here produces values valid under the matching definition in
``schemas/defs.v1.json`` by construction (no filtering), mixing realistic values from
small pools (names in many scripts, real framework codes) with arbitrary text.
"""

from __future__ import annotations

import base64
import hashlib
import string
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

Strategy = st.SearchStrategy
Data = dict[str, Any]

# -- records with optional fields ----------------------------------------------------------


def record(
    required: Mapping[str, Strategy[Any]], optional: Mapping[str, Strategy[Any]] | None = None
) -> Strategy[Data]:
    """A dict with every ``required`` key and any subset of the ``optional`` ones."""
    return st.fixed_dictionaries(dict(required), optional=dict(optional or {}))


def without_some(value: Data, optional: Sequence[str]) -> Strategy[Data]:
    """``value`` with any subset of its ``optional`` keys removed."""
    present = [k for k in optional if k in value]
    if not present:
        return st.just(value)
    return st.lists(st.sampled_from(present), unique=True).map(
        lambda dropped: {k: v for k, v in value.items() if k not in dropped}
    )


def small_lists(elements: Strategy[Any], max_size: int = 3, min_size: int = 0) -> Strategy[Any]:
    return st.lists(elements, min_size=min_size, max_size=max_size)


# -- text ----------------------------------------------------------------------------------

FULL_NAMES = (
    "Zoë Ångström",
    "李华",
    "Oluwaseun Adeyemi",
    "Tomás Ó Briain",
    "Amara Okafor",
    "Søren Nielsen",
    "Мария Иванова",
    "محمد الأحمد",
    "Nguyễn Văn An",
    "José María Pérez-Núñez",
    "Priya Sharma",
    "Kenji Tanaka",
    "Chloé Dubois",
    "Ingrid Larsen",
)
GIVEN = ("Zoë", "华", "Oluwaseun", "Tomás", "Amara", "Søren", "Мария", "محمد", "An", "Priya")
FAMILY = ("Ångström", "李", "Adeyemi", "Ó Briain", "Okafor", "Nielsen", "Иванова", "Tanaka")
# Characters of arbitrary text: any assigned, non-surrogate code point except controls
# other than newline and tab (free text is typed or pasted by people).
_TEXT_CHARS = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n\t")
_STARTS = ("A", "É", "李", "Ж", "ß", "Ω", "ع", "1", "🎓")


def arbitrary_text(max_size: int = 60) -> Strategy[str]:
    """Any text that is not blank: a visible first character, then anything."""
    return st.builds(
        lambda head, tail: head + tail,
        st.sampled_from(_STARTS),
        st.text(_TEXT_CHARS, max_size=max_size - 1),
    )


def pick(values: Sequence[str], max_size: int = 60) -> Strategy[str]:
    """Mostly (3 in 4) one of ``values``, sometimes arbitrary text."""
    known = st.sampled_from(values)
    return st.one_of(known, known, known, arbitrary_text(max_size))


def person_names() -> Strategy[str]:
    return st.sampled_from(FULL_NAMES)


def sentences(templates: Sequence[str]) -> Strategy[str]:
    """Free text about a person: ``templates`` with ``{name}`` filled, or arbitrary text."""
    filled = st.builds(lambda t, n: t.format(name=n), st.sampled_from(templates), person_names())
    return st.one_of(filled, filled, arbitrary_text(300))


# -- identifiers ---------------------------------------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PRINTABLE = string.ascii_letters + string.digits + string.punctuation


def learner_ids() -> Strategy[str]:
    """Pseudonymous ledger ids: ``lrn_`` and 26 Crockford base32 characters (a ULID)."""
    return st.text(CROCKFORD, min_size=26, max_size=26).map(lambda s: "lrn_" + s)


def local_ids(*prefixes: str) -> Strategy[str]:
    """Issuer-local ids as registrars write them, or UUIDs, or any printable ASCII."""
    styled = st.builds(
        lambda p, year, n: f"{p}{year}-{n:06d}",
        st.sampled_from(prefixes or ("ID-",)),
        st.integers(2000, 2035),
        st.integers(0, 999_999),
    )
    return st.one_of(
        styled,
        styled,
        st.uuids().map(str),
        st.text(_PRINTABLE, min_size=1, max_size=40),
    )


def codes(*examples: str) -> Strategy[str]:
    return st.one_of(st.sampled_from(examples), st.text(_PRINTABLE, min_size=1, max_size=20))


# -- dates and times -----------------------------------------------------------------------

_OFFSETS = (
    UTC,
    UTC,
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=9)),
)


def days(lo: int = 1990, hi: int = 2035) -> Strategy[date]:
    return st.dates(date(lo, 1, 1), date(hi, 12, 31))


def as_partial(day: date, precision: int) -> str:
    """``day`` written as YYYY (precision 0), YYYY-MM (1) or YYYY-MM-DD (2)."""
    return day.isoformat()[: (4, 7, 10)[precision]]


def partial_dates(lo: int = 1990, hi: int = 2035) -> Strategy[str]:
    return st.builds(as_partial, days(lo, hi), st.sampled_from((2, 2, 2, 1, 0)))


def ordered_partial_dates(n: int, lo: int = 1990, hi: int = 2035) -> Strategy[list[str]]:
    """``n`` partial dates in calendar order (e.g. a start and an end), each as precise as drawn."""
    return st.builds(
        lambda ds, precisions: [
            as_partial(d, p) for d, p in zip(sorted(ds), precisions, strict=True)
        ],
        st.lists(days(lo, hi), min_size=n, max_size=n),
        st.lists(st.sampled_from((2, 2, 1, 0)), min_size=n, max_size=n),
    )


def rfc3339(moment: datetime) -> str:
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def moments(lo: int = 2000, hi: int = 2035) -> Strategy[datetime]:
    return st.datetimes(
        datetime(lo, 1, 1), datetime(hi, 12, 31), timezones=st.sampled_from(_OFFSETS)
    ).map(lambda m: m.replace(microsecond=m.microsecond // 1000 * 1000))


def date_times(lo: int = 2000, hi: int = 2035) -> Strategy[str]:
    """RFC 3339 date-times with ``Z`` or a numeric offset, sometimes with milliseconds."""
    return moments(lo, hi).map(rfc3339)


def later_date_time(moment: datetime, max_days: int = 730) -> Strategy[str]:
    return st.integers(60, max_days * 86400).map(lambda s: rfc3339(moment + timedelta(seconds=s)))


# -- URIs, media, digests --------------------------------------------------------------------

_PATH = string.ascii_letters + string.digits + "-_.~"


def uris(host: str | None = None) -> Strategy[str]:
    hosts = (
        st.just(host)
        if host
        else st.sampled_from(
            (
                "files.uni-north.example",
                "evidence.codecamp.example",
                "portfolio.example",
                "cdn.example",
            )
        )
    )
    return st.builds(
        lambda h, parts: "https://" + h + "/" + "/".join(parts),
        hosts,
        st.lists(st.text(_PATH, min_size=1, max_size=12), min_size=1, max_size=3),
    )


MEDIA_TYPES = (
    "application/pdf",
    "text/html; charset=utf-8",
    "image/png",
    "video/mp4",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


def digests() -> Strategy[str]:
    """``sha256-`` then the hash of some bytes in standard base64, URL-safe base64 or hex."""
    encoders: tuple[Callable[[bytes], str], ...] = (
        lambda d: base64.b64encode(d).decode(),
        lambda d: base64.urlsafe_b64encode(d).decode().rstrip("="),
        lambda d: d.hex(),
    )
    return st.builds(
        lambda blob, encode: "sha256-" + encode(hashlib.sha256(blob).digest()),
        st.binary(max_size=32),
        st.sampled_from(encoders),
    )


COUNTRIES = ("GB", "IE", "DE", "FR", "NL", "SE", "ES", "NG", "IN", "CN", "VN", "CA", "US")
LANGUAGES = ("en", "en-GB", "en-US", "de-DE", "fr", "zh-Hans-CN", "pt-BR", "sv", "ga-IE", "es-419")
