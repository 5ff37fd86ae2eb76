"""How lrs's processes run Python's cyclic garbage collector (ADR 0011).

The statement path makes no reference cycles, but the collector still walks the young objects every 700
allocations, and a 100-statement request or a 5,000-statement import chunk allocates tens of thousands of dicts and
lists. Measured: ~10% of a server worker's CPU per statement in batch POSTs, ~30% of an import worker's.
"""

from __future__ import annotations

import gc

# Container allocations between two young collections: CPython's default is 700.
YOUNG = 10_000


def settle_server() -> None:
    """After start-up: freeze what start-up made, so no collection walks it again, and collect the young less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, 10, 10)


def settle_worker() -> None:
    """In an import worker: no automatic collection at all; `collect_between` runs one between chunks."""
    gc.collect()
    gc.freeze()
    gc.disable()


def collect_between() -> None:
    """One full collection between two units of work, when little is alive: any cycle is freed, at ~1 ms a chunk."""
    gc.collect()
