"""Rebuilding a read model from zero beside the live one, shared out over processes.

The log is projected into shadows (``<projection>~rebuild-<k>``, documents in a fresh
namespace) up to the head at the start, while the live read model keeps serving reads;
then one transaction points the read model at the shadows' documents, deletes its former
ones and sets its position to that head (``ProjectionStore.promote``, no copying), and
the runner catches up with what arrived meanwhile. A rebuild killed before the swap leaves the
live read model as it was; the next rebuild clears the shadows and starts again.

A projection whose every document draws on one stream (``partition_by_stream``: the
learner record, one document per learner stream) is cut into parts by stream
(``ledger.persistence.partition_of``); this process and its workers take parts from a
shared counter until none is left, each projecting its parts into their own shadows with
their own positions. Reading the log, decrypting and applying then run on every core.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import uuid
from collections.abc import Callable
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from ledger.application import Ledger
from ledger.collector import tune_gc
from ledger.errors import StoreError
from ledger.parallel import exit_with_parent
from ledger.persistence import STREAM_SLICES
from ledger.settings import Settings
from projections.store import ProjectionStore, open_store_at

# Parts of the log, by stream: more than the workers, so that one finishing early takes
# another part; few, since each part's reads scan the whole log.
PARTS = 4
# Below this many rows, a worker is not started unless asked for.
PARALLEL_MIN_ROWS = 20_000
WAIT_S = 0.2
# Beyond two, the database (one writer at a time on SQLite) is the limit.
MAX_WORKERS = 2

Progress = Callable[[int], None]


def default_workers(rows: int) -> int:
    """Processes a rebuild of a log of ``rows`` rows uses unless told: one per core, at
    most :data:`MAX_WORKERS`, for :data:`PARALLEL_MIN_ROWS` rows or more; else one."""
    if rows < PARALLEL_MIN_ROWS:
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def shadow_name(projection: str, part: int) -> str:
    return f"{projection}~rebuild-{part}"


def rebuild_from_zero(
    ledger: Ledger,
    store: ProjectionStore,
    projection: Any,
    *,
    page: int,
    workers: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Project the log up to its current head into shadows, then swap them in.

    Args:
        projection: a :class:`projections.runner.ReadModel` (picklable when
            ``workers > 1``: workers are separate processes).
        workers: processes to use, this one included (default: :func:`default_workers`).

    Returns:
        The head the read model now reflects (every row up to it was applied once).

    Raises:
        StoreError: the database or a worker failed; the live read model is untouched.
    """
    head = ledger.recorder.max_position()
    if workers is None:
        workers = default_workers(head)
    parallel = workers > 1 and getattr(projection, "partition_by_stream", False)
    parts = PARTS if parallel else 1
    for k in range(parts, STREAM_SLICES):  # what a killed rebuild in more parts left
        store.reset(shadow_name(projection.name, k))
    shadows = [shadow_name(projection.name, k) for k in range(parts)]
    store.prepare_shadows(shadows, f"{projection.name}~{uuid.uuid4().hex[:16]}")
    # Forked, a worker starts in milliseconds with everything imported (spawned, it
    # takes half a second). It opens its own connections and never touches this
    # process's; it leaves with os._exit, so it runs none of their finalisers.
    ctx = multiprocessing.get_context("fork")
    counter: Synchronized[int] = ctx.Value("i", 0)
    children: list[Any] = []
    messages: Any = ctx.Queue()
    if parallel:
        for _ in range(workers - 1):
            child = ctx.Process(
                target=_worker,
                args=(
                    ledger.settings,
                    store.locator(),
                    projection,
                    (page, parts, head),
                    counter,
                    messages,
                    os.getpid(),
                ),
                daemon=True,
            )
            child.start()
            children.append(child)
    report = progress or (lambda n: None)
    finals: list[tuple[str, Any]] = []
    try:

        def advance(n: int) -> None:
            report(n)
            finals.extend(_drain(messages, report, block=False))

        _build_parts(ledger, store, projection, (page, parts, head), counter, advance)
        _await(children, messages, report, finals)
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
            child.join()
    store.promote(shadows, projection.name, position=head)
    return head


def _claim(counter: Synchronized[int], parts: int) -> int | None:
    with counter.get_lock():
        part = counter.value
        if part >= parts:
            return None
        counter.value = part + 1
        return part


def _build_parts(
    ledger: Ledger,
    store: ProjectionStore,
    projection: Any,
    plan: tuple[int, int, int],
    counter: Synchronized[int],
    progress: Progress,
) -> None:
    from projections.runner import Projector

    page, parts, head = plan
    while (part := _claim(counter, parts)) is not None:
        shadow = shadow_name(projection.name, part)
        runner = Projector(
            ledger,
            store,
            projection,
            page=page,
            name=shadow,
            partition=(part, parts) if parts > 1 else None,
            until=head,
        )
        runner.catch_up(progress)
        # The part's last row may sit before the head: the shadow still covers up to it.
        position = store.position(shadow)
        if position != head:
            store.save(shadow, {}, expected=position, position=head)


def _worker(
    settings: Settings,
    locator: str,
    projection: Any,
    plan: tuple[int, int, int],
    counter: Synchronized[int],
    messages: Any,
    parent: int,
) -> None:
    # This process's start: the collector set as the command sets it for its own process;
    # everything inherited from the parent is frozen out of its collections (walking it
    # would be wasted work, and would copy its pages, copy-on-write).
    tune_gc(forked=True)
    threading.Thread(target=exit_with_parent, args=(parent,), daemon=True).start()
    code = 0
    try:
        with Ledger.open(settings) as ledger:
            store = open_store_at(locator)
            try:
                _build_parts(ledger, store, projection, plan, counter, messages.put)
            finally:
                store.close()
        messages.put(("done", None))
    except BaseException as exc:  # reported to the parent, which raises StoreError
        messages.put(("failed", f"{type(exc).__name__}: {exc}"))
        code = 1
    finally:
        messages.close()
        messages.join_thread()  # the last word reaches the parent before we leave
        os._exit(code)


def _drain(messages: Any, progress: Progress, *, block: bool) -> list[tuple[str, Any]]:
    """Pass workers' progress on; return their final messages."""
    finals: list[tuple[str, Any]] = []
    while True:
        try:
            message = messages.get(timeout=WAIT_S) if block else messages.get_nowait()
        except queue.Empty:
            return finals
        if isinstance(message, int):
            progress(message)
        else:
            finals.append(message)
            block = False


def _await(
    children: list[Any], messages: Any, progress: Progress, finals: list[tuple[str, Any]]
) -> None:
    """Wait for every worker's last word (progress passed on meanwhile).

    Raises:
        StoreError: a worker failed, or exited without finishing (killed).
    """
    while True:
        failed = [detail for state, detail in finals if state == "failed"]
        if failed:
            raise StoreError(f"rebuild worker failed: {failed[0]}")
        if len(finals) == len(children):
            return
        if not any(c.is_alive() for c in children):
            finals.extend(_drain(messages, progress, block=False))
            if len(finals) < len(children):
                codes = [c.exitcode for c in children]
                raise StoreError(f"rebuild worker exited before finishing its parts: {codes}")
            continue
        finals.extend(_drain(messages, progress, block=True))
