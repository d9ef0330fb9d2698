"""Progress where a person waits: a tqdm bar on a terminal, one plain line per step otherwise
(logs, CI, pipes), each with the elapsed time."""
from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")


def track(items: Iterable[T], description: str, total: int | None = None, stream: TextIO | None = None,
          unit: str = "it") -> Iterator[T]:
    """Yield `items`, showing `description` with done/total and the elapsed seconds on `stream` (stderr)."""
    stream = stream or sys.stderr
    items = list(items) if total is None else items
    total = len(items) if total is None else total
    if stream.isatty():
        from tqdm import tqdm

        yield from tqdm(items, desc=description, total=total, file=stream, unit=unit, dynamic_ncols=True)
        return
    started = time.perf_counter()
    done = 0
    for item in items:
        yield item
        done += 1
        print(f"{description}: {done}/{total} {unit} ({time.perf_counter() - started:.1f} s)", file=stream, flush=True)
