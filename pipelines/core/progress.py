"""Progress where a person waits: a tqdm bar on a terminal, plain lines otherwise (logs, CI, pipes),
each with done/total and the elapsed time. Used by the CLI (demo stages, backfill partitions) and by
the long loops below it (ingest windows, U-Net training steps, inference tiles)."""
from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")
LOG_EVERY_S = 10.0  # long loops without a terminal: one progress line per 10 s at most


def track(items: Iterable[T], description: str, total: int | None = None, stream: TextIO | None = None,
          unit: str = "it", every_s: float = 0.0) -> Iterator[T]:
    """Yield `items`, showing `description` with done/total and the elapsed seconds on `stream` (stderr).

    every_s: without a terminal, at most one line per `every_s` seconds (and always the last item),
    so a loop of thousands of windows writes a few lines to a log, not thousands."""
    stream = stream or sys.stderr
    items = list(items) if total is None else items
    total = len(items) if total is None else total
    if stream.isatty():
        from tqdm import tqdm

        yield from tqdm(items, desc=description, total=total, file=stream, unit=unit, dynamic_ncols=True)
        return
    started = last = time.perf_counter()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.perf_counter()
        if now - last >= every_s or done == total:
            last = now
            print(f"{description}: {done}/{total} {unit} ({now - started:.1f} s)", file=stream, flush=True)
