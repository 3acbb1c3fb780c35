"""StreamHeads on its own: what it asks the database, and when it trusts itself."""

from __future__ import annotations

from uuid import UUID, uuid4

from ledger.persistence import HeadsUpdate, StreamHeads

A, B, C = uuid4(), uuid4(), uuid4()


class FakeLog:
    """Stream heads as a database would answer, with a record of the questions."""

    def __init__(self, heads: dict[UUID, int]) -> None:
        self.heads = heads
        self.asked: list[tuple[str, object]] = []

    def changed_since(self, position: int) -> dict[UUID, int]:
        self.asked.append(("since", position))
        return dict(self.heads)

    def load(self, streams: list[UUID]) -> dict[UUID, int]:
        self.asked.append(("load", sorted(map(str, streams))))
        return {s: self.heads[s] for s in streams if s in self.heads}


def read(cache: StreamHeads, log: FakeLog, streams: list[UUID], last: int) -> dict[UUID, int]:
    return cache.read(streams, last, changed_since=log.changed_since, load=log.load)


def test_known_streams_are_not_asked_again_while_nobody_else_writes() -> None:
    cache, log = StreamHeads(), FakeLog({A: 4})
    assert read(cache, log, [A, B], 10) == {A: 4, B: 0}
    cache.committed(HeadsUpdate(10, 12, {A: 5, B: 1}))
    assert read(cache, log, [A, B], 12) == {A: 5, B: 1}
    assert log.asked == [("load", sorted(map(str, [A, B])))]


def test_rows_written_elsewhere_are_read_back_from_the_cache_position() -> None:
    cache, log = StreamHeads(), FakeLog({A: 4})
    read(cache, log, [A], 10)
    log.heads = {A: 6}
    assert read(cache, log, [A], 13) == {A: 6}
    assert log.asked[-1] == ("since", 10)


def test_an_update_from_an_older_position_is_ignored() -> None:
    cache, log = StreamHeads(), FakeLog({A: 1})
    read(cache, log, [A], 10)
    cache.committed(HeadsUpdate(10, 11, {A: 2}))
    # A commit that read at 10 too, but reports after the one above: not applied.
    cache.committed(HeadsUpdate(10, 12, {A: 9}))
    log.heads = {A: 3}
    assert read(cache, log, [A], 12) == {A: 3}
    assert log.asked[-1] == ("since", 11)


def test_a_long_gap_or_a_full_cache_starts_afresh() -> None:
    cache, log = StreamHeads(capacity=2, max_catch_up=5), FakeLog({A: 1, B: 1, C: 1})
    read(cache, log, [A, B], 10)
    assert read(cache, log, [C], 10) == {C: 1}  # over capacity: forgets A and B
    assert read(cache, log, [A], 10) == {A: 1}
    assert log.asked[-1] == ("load", [str(A)])
    log.heads = {A: 7}
    assert read(cache, log, [A], 100) == {A: 7}  # gap of 90 > 5: reload, no range scan
    assert ("since", 10) not in log.asked


def test_unknown_names_the_streams_a_read_would_load() -> None:
    cache, log = StreamHeads(), FakeLog({A: 4})
    assert cache.unknown([A, B]) == [A, B]
    read(cache, log, [A, B], 10)
    assert cache.unknown([A, B, C]) == [C]
