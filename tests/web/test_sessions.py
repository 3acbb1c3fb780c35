"""Server-side sessions and one-time export links: they end when they should, on a clock
the test turns."""

from __future__ import annotations

from api.web.exports import OneTimeLinks
from api.web.sessions import SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_ends_after_the_idle_limit_and_lives_while_used() -> None:
    clock = Clock()
    store = SessionStore(ttl_s=60, max_age_s=3600, clock=clock)
    store.save("s1", {"user": "a"})
    clock.now += 59
    assert store.load("s1") == {"user": "a"}
    clock.now += 59  # used a minute ago: still alive
    assert store.load("s1") == {"user": "a"}
    clock.now += 61
    assert store.load("s1") is None
    assert len(store) == 0


def test_a_session_ends_at_its_absolute_limit_however_busy() -> None:
    clock = Clock()
    store = SessionStore(ttl_s=60, max_age_s=120, clock=clock)
    store.save("s1", {"user": "a"})
    for _ in range(4):
        clock.now += 30
        store.load("s1")
    clock.now += 1
    assert store.load("s1") is None


def test_a_loaded_session_is_a_copy_and_drop_ends_it() -> None:
    store = SessionStore(ttl_s=60, max_age_s=120)
    store.save("s1", {"user": "a"})
    copy = store.load("s1")
    assert copy is not None
    copy["user"] = "b"
    assert store.load("s1") == {"user": "a"}
    store.drop("s1")
    assert store.load("s1") is None


def test_an_export_link_works_once() -> None:
    links = OneTimeLinks()
    token = links.make("lrn_1", "jwt")
    assert links.take(token) == ("lrn_1", "jwt")
    assert links.take(token) is None
    assert links.take("never-made") is None


def test_an_export_link_expires() -> None:
    clock = Clock()
    links = OneTimeLinks(ttl_s=300, clock=clock)
    token = links.make("lrn_1", "di")
    clock.now += 300
    assert links.take(token) is None


def test_export_links_are_unguessable_and_distinct() -> None:
    links = OneTimeLinks()
    tokens = {links.make("lrn_1", "di") for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 43 for t in tokens)  # 32 random bytes
