"""The key ring: each learner's data key, created on first need, destroyed on erasure."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from ledger.crypto import DataKey, MasterKey, generate_key
from ledger.errors import LearnerErasedError, StoreError
from ledger.persistence import KeyRecord, LedgerRecorder

CACHE_SIZE = 50_000


class KeyRing:
    """Unwrapped learner keys, cached; the master key is asked for only when needed.

    Args:
        recorder: where wrapped keys live.
        master: returns the master key; called lazily so runs that never touch
            personal data need none.
    """

    def __init__(self, recorder: LedgerRecorder, master: Callable[[], bytes]) -> None:
        self._recorder = recorder
        self._master_source = master
        self._master: MasterKey | None = None
        # learner id -> DataKey, or None when the learner was erased
        self._cache: OrderedDict[str, DataKey | None] = OrderedDict()
        # The last erasure (by its log position) the cache reflects; set before the first
        # key is cached, so any erasure after that is caught up (see catch_up).
        self._erasures_seen: int | None = None

    def _master_key(self) -> MasterKey:
        if self._master is None:
            self._master = MasterKey(self._master_source())
        return self._master

    def catch_up(self) -> int:
        """Drop the cached keys of learners erased since the last call, by any process
        (an erasure elsewhere leaves this cache holding a key the store destroyed).
        Returns the last erasure's position the cache now reflects, for the append to
        check that none of its learners was erased after it (``erasures_seen``)."""
        if self._erasures_seen is None:
            return self._watch()
        return self.caught_up(*self._recorder.erasures_after(self._erasures_seen))

    @property
    def erasures_seen(self) -> int | None:
        """The last erasure's position the cache reflects (None before the first look)."""
        return self._erasures_seen

    def caught_up(self, position: int, erased: list[str]) -> int:
        """:meth:`catch_up` with what the caller read itself:
        ``LedgerRecorder.erasures_after(erasures_seen)``. Returns ``position``."""
        for learner_id in erased:
            if learner_id in self._cache:
                self._remember(learner_id, None)
        self._erasures_seen = position
        return position

    def _watch(self) -> int:
        """Before the first key is read from the store: note the last erasure (returned).
        Those before it show in what the store answers; later ones are caught up from
        here."""
        if self._erasures_seen is None:
            self._erasures_seen, _ = self._recorder.erasures_after(None)
        return self._erasures_seen

    def _remember(self, learner_id: str, key: DataKey | None) -> None:
        self._cache[learner_id] = key
        self._cache.move_to_end(learner_id)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def derive(self, label: bytes) -> bytes:
        """A secret derived from the master key for ``label`` (see ``MasterKey.derive``).

        Raises:
            MasterKeyMissingError: no master key is configured.
        """
        return self._master_key().derive(label)

    def preload(self, learner_ids: Iterable[str]) -> None:
        """Fetch the keys of these learners not cached yet, in one query."""
        unknown = [lid for lid in set(learner_ids) if lid not in self._cache]
        if unknown:
            self._watch()
            for record in self._recorder.load_keys(unknown).values():
                self._load(record)

    def erased_among(self, learner_ids: Iterable[str], *, offering: Iterable[str] = ()) -> set[str]:
        """Which of these learners were erased (one query for those not cached).

        Args:
            offering: those of them about to need a key for writing (their events carry
                personal data): a key is offered for each not cached in the same query,
                so :meth:`for_writing` finds it cached.

        Raises:
            MasterKeyMissingError: keys are offered and no master key is configured.
        """
        wanted = set(learner_ids)
        unknown = [lid for lid in wanted if lid not in self._cache]
        offer = set(offering).intersection(unknown)
        if offer:
            self._offer(sorted(offer), also=[lid for lid in unknown if lid not in offer])
        elif unknown:
            self.preload(unknown)
        return {lid for lid in wanted if lid in self._cache and self._cache[lid] is None}

    def _load(self, record: KeyRecord) -> None:
        if record.erased:
            self._remember(record.learner_id, None)
        elif record.learner_id not in self._cache:
            master = self._master_key()
            assert record.wrapped is not None
            raw = master.unwrap(record.learner_id, record.wrapped, record.key_id)
            self._remember(record.learner_id, DataKey(raw))

    def for_writing(self, learner_ids: Iterable[str]) -> dict[str, DataKey]:
        """Data keys for these learners, creating keys for learners who have none.

        Learners not cached take one round trip together: a new key is offered for each,
        and the store keeps the one a learner already has (or its tombstone).

        Raises:
            LearnerErasedError: one of them was erased.
            MasterKeyMissingError: no master key is configured.
        """
        wanted = set(learner_ids)
        unknown = [lid for lid in wanted if lid not in self._cache]
        if unknown:
            self._offer(unknown)
        if any(lid not in self._cache for lid in wanted):
            raise StoreError("the key store returned no key for a learner it was given")
        erased = sorted(lid for lid in wanted if self._cache[lid] is None)
        if erased:
            raise LearnerErasedError(erased[0])
        return {lid: key for lid in wanted if (key := self._cache.get(lid)) is not None}

    def _offer(self, learner_ids: list[str], *, also: Sequence[str] = ()) -> None:
        """Offer a new key for each of these learners (none cached); the store keeps the
        key a learner already has, or its tombstone. ``also``: learners whose stored keys
        are read in the same query."""
        self._watch()
        master = self._master_key()
        offered = {lid: generate_key() for lid in learner_ids}
        records = [
            KeyRecord(lid, master.key_id, master.wrap(lid, raw), None)
            for lid, raw in offered.items()
        ]
        wrapped = {r.learner_id: r.wrapped for r in records}
        for record in self._recorder.insert_keys(records, also=also).values():
            mine = wrapped.get(record.learner_id)
            if record.wrapped is not None and record.wrapped == mine:
                self._remember(record.learner_id, DataKey(offered[record.learner_id]))
            else:
                self._load(record)

    def for_reading(self, learner_id: str) -> DataKey | None:
        """The learner's key, or None when erased or never created."""
        if learner_id not in self._cache:
            self._watch()
            record = self._recorder.load_keys([learner_id]).get(learner_id)
            if record is None:
                return None
            self._load(record)
        return self._cache.get(learner_id)

    def forget(self, learner_id: str) -> None:
        """Mark a learner erased in this process's cache."""
        self._remember(learner_id, None)
