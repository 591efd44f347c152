"""Building many small objects at once without the cyclic collector walking the heap meanwhile.

A snapshot of 100,000 origins allocates a few hundred thousand tuples. Each allocation counts
towards the collector's thresholds, so while they are built the collector runs again and again,
and its full passes walk every object of the process (a Django worker holds a few hundred
thousand): about as much CPU time as the build itself. None of these tuples is part of a
reference cycle, so nothing is lost by collecting once, afterwards: one pass over the young
objects, which the next allocation would otherwise start, is made at the end of the block so
that it counts towards the block's own time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block, unless something else already did.

    Process-wide, as the collector is: another thread's cycles wait for the end of the block.
    Reference counting, which frees everything else, never pauses.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)
