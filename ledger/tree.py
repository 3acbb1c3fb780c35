"""The log's Merkle tree as stored beside it: grown from the log, read for proofs.

The tree follows the log as a read model does: :meth:`LogTree.grow` reads the chain hashes
of the events it has not seen (never their bodies), extends the tiles at the tree's right
edge and stores them with the new size in one transaction. A writer that finds the tree
grown by another meanwhile stores nothing and starts again from there, so any number of
processes may grow it. Nothing is ever recomputed from the first leaf on a read: a proof
reads the few tiles it needs (:class:`ledger.tiles.TileTree`), full ones from a cache,
since a full tile never changes.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence

from ledger.errors import LedgerError
from ledger.integrity import StoredRow
from ledger.merkle import HASH_LEN, ProofError
from ledger.notes import SignedCheckpoint
from ledger.persistence import LedgerRecorder
from ledger.tiles import TILE_WIDTH, TileKey, TileTree, TreeEdge, edge_keys

FULL_TILE = TILE_WIDTH * HASH_LEN


class TreeGapError(LedgerError):
    """The log has a hole where the tree's next leaf should be (a lost or removed row)."""


class LogTree:
    """The stored Merkle tree over ``recorder``'s log.

    Args:
        recorder: the log and the tree's tables.
        page: chain hashes read (and leaves stored) per transaction while growing.
        cached_tiles: full tiles kept in memory for proofs (8 KiB each).
    """

    def __init__(
        self, recorder: LedgerRecorder, *, page: int = 20_000, cached_tiles: int = 4096
    ) -> None:
        self._recorder = recorder
        self._page = page
        self._edge: TreeEdge | None = None
        self._full: OrderedDict[TileKey, bytes] = OrderedDict()
        self._cap = cached_tiles

    def size(self) -> int:
        """The leaves the stored tree holds (it may trail the log)."""
        return self._recorder.tree_size()

    def grow(
        self, *, until: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Extend the tree with the log's events it lacks (up to position ``until``).

        Args:
            progress: called with the number of leaves added after each page.

        Returns:
            The tree's size afterwards.

        Raises:
            TreeGapError: a position is missing from the log.
            StoreError: the database failed.
        """
        recorder = self._recorder
        while True:
            size = recorder.tree_size()
            edge = self._edge
            if edge is None or edge.size != size:
                edge = TreeEdge(size, recorder.tree_tiles(edge_keys(size)))
            limit = self._page if until is None else min(self._page, until - size)
            hashes = recorder.chain_hashes(size + 1, limit) if limit > 0 else b""
            if not hashes:
                if limit > 0 and recorder.max_position() > size:
                    raise TreeGapError(
                        f"log position {size + 1} is missing: the tree's leaves must be every "
                        "position in order (run `ledger audit verify`)"
                    )
                self._edge = edge
                return size
            sha256 = hashlib.sha256  # leaf_hash, inline: this runs once per event
            changed = edge.extend(
                [
                    sha256(b"\x00" + hashes[i : i + HASH_LEN]).digest()
                    for i in range(0, len(hashes), HASH_LEN)
                ]
            )
            if recorder.grow_tree(size, edge.size, changed):
                self._edge = edge
                if progress is not None:
                    progress(len(hashes) // HASH_LEN)
            else:
                self._edge = None  # grown by another writer: start again from its size

    def _read(self, keys: Sequence[TileKey]) -> dict[TileKey, bytes]:
        found = {k: self._full[k] for k in keys if k in self._full}
        missing = [k for k in keys if k not in found]
        if missing:
            for key, tile in self._recorder.tree_tiles(missing).items():
                found[key] = tile
                if len(tile) == FULL_TILE:
                    self._full[key] = tile
            while len(self._full) > self._cap:
                self._full.popitem(last=False)
        return found

    def reader(self, size: int | None = None) -> TileTree:
        """Roots and proofs of the stored tree (of ``size`` leaves, default all).

        Raises:
            ProofError: the stored tree holds fewer than ``size`` leaves.
        """
        stored = self.size()
        if size is not None and size > stored:
            raise ProofError(f"tree size {size} is beyond the {stored} leaves stored")
        return TileTree(stored if size is None else size, self._read)

    # -- signed checkpoints, kept in the log's own database -----------------------------

    def latest(self) -> SignedCheckpoint | None:
        """The signed checkpoint of the largest size, if any."""
        found = self._recorder.signed_checkpoints(limit=1, newest_first=True)
        return found[0] if found else None

    def checkpoints(self, *, after_size: int = -1, limit: int = 100) -> list[SignedCheckpoint]:
        """Signed checkpoints of sizes above ``after_size``, smallest first."""
        return self._recorder.signed_checkpoints(after_size=after_size, limit=limit)

    def checkpoint_of(self, size: int) -> SignedCheckpoint | None:
        """The signed checkpoint of exactly ``size``, if one was made."""
        found = self._recorder.signed_checkpoints(after_size=size - 1, limit=1)
        return found[0] if found and found[0].size == size else None

    def keep(self, checkpoint: SignedCheckpoint) -> SignedCheckpoint:
        """Store a signed checkpoint; the one stored for its size (another process may
        have signed that size first)."""
        if self._recorder.add_signed_checkpoint(checkpoint):
            return checkpoint
        kept = self.checkpoint_of(checkpoint.size)
        assert kept is not None
        return kept

    def add_cosignature(self, size: int, name: str, line: str, created_at: str) -> bool:
        """Keep a witness's cosignature line of the checkpoint of ``size``."""
        return self._recorder.add_cosignature(size, name, line, created_at)

    def cosignatures(self, size: int) -> list[str]:
        """The witnesses' cosignature lines kept for the checkpoint of ``size``."""
        return self._recorder.cosignatures(size)

    def chain_hash(self, position: int) -> bytes:
        """The chain hash of the event at ``position`` (the data of leaf ``position - 1``).

        Raises:
            ProofError: no event is at that position.
        """
        found = self._recorder.chain_hashes(position, 1)
        if len(found) != HASH_LEN:
            raise ProofError(f"no event at log position {position}")
        return found

    def row(self, position: int) -> StoredRow:
        """The stored event at ``position``.

        Raises:
            ProofError: no event is at that position.
        """
        rows = self._recorder.select_log(position, 1)
        if not rows or rows[0].position != position:
            raise ProofError(f"no event at log position {position}")
        return rows[0]
