"""One writer per product: an exclusive lock held from staging to publication.

- Local folder: `fcntl.flock` on `<store>/_locks/<product>.lock` (the kernel drops it when the
  writer dies, even by SIGKILL, so a crashed writer never blocks the next one).
- Object store (no flock there): a lease object `<store>/_locks/<product>.lease` holding the
  owner and an expiry time. A writer takes a free or expired lease, writes it, reads it back after
  a settling pause and proceeds only if it still holds it; it deletes the lease when done. A
  killed writer's lease expires after `LEASE_S`. (Object stores give last-writer-wins PUTs, so the
  read-back makes the race window the settling pause, not the whole write.)
Waiting is bounded: after `timeout_s` a `StoreError` names the product and the fix.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec

from pipelines.core.errors import StoreError

LOCKS = "_locks"
LEASE_S = 3600.0
WAIT_S = 600.0
POLL_S = 0.05
SETTLE_S = 0.2


def lock_name(group: str) -> str:
    """A flat file name for a product group (`flights/x/indices` -> `flights~x~indices`)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "~", group.strip("/"))


@contextlib.contextmanager
def _local_lock(store: Path, group: str, timeout_s: float) -> Iterator[None]:
    folder = store / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{lock_name(group)}.lock"
    deadline = time.monotonic() + timeout_s
    with open(path, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{store}/{group}",
                        f"another run has been writing this product for over {timeout_s:.0f} s",
                        "wait for it to finish (one writer per product), or stop the stuck run",
                    ) from None
                time.sleep(POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_lease(fs, path: str) -> dict | None:
    try:
        return json.loads(fs.cat_file(path).decode("utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return None


@contextlib.contextmanager
def _remote_lease(store: str, group: str, timeout_s: float, lease_s: float) -> Iterator[None]:
    url = f"{store.rstrip('/')}/{LOCKS}/{lock_name(group)}.lease"
    fs, path = fsspec.core.url_to_fs(url, use_listings_cache=False)
    owner, deadline = f"{os.getpid()}-{uuid.uuid4().hex}", time.monotonic() + timeout_s
    while True:
        lease = _read_lease(fs, path)
        if lease is None or lease.get("owner") == owner or float(lease.get("expires", 0)) < time.time():
            fs.pipe_file(path, json.dumps({"owner": owner, "expires": time.time() + lease_s}).encode())
            time.sleep(SETTLE_S)
            if (_read_lease(fs, path) or {}).get("owner") == owner:
                break
        if time.monotonic() >= deadline:
            raise StoreError(
                url,
                f"the product's lease is held by another writer ({(lease or {}).get('owner')})",
                f"wait for it to finish; a dead writer's lease expires after {lease_s:.0f} s",
            )
        time.sleep(POLL_S * 4)
    try:
        yield
    finally:
        if (_read_lease(fs, path) or {}).get("owner") == owner:
            fs.rm_file(path)


def product_lock(store, group: str, timeout_s: float = WAIT_S, lease_s: float = LEASE_S):
    """Hold the exclusive write lock of product `group` of `store` (see the module docstring)."""
    text = str(store)
    if "://" in text and not text.startswith("file://"):
        return _remote_lease(text, group, timeout_s, lease_s)
    return _local_lock(Path(store), group, timeout_s)


def writer_active(store, group: str) -> bool:
    """Whether a writer holds product `group`'s lock now (a reader then waits instead of failing)."""
    text = str(store)
    if "://" in text and not text.startswith("file://"):
        url = f"{text.rstrip('/')}/{LOCKS}/{lock_name(group)}.lease"
        fs, path = fsspec.core.url_to_fs(url, use_listings_cache=False)
        lease = _read_lease(fs, path)
        return lease is not None and float(lease.get("expires", 0)) >= time.time()
    path = Path(store) / LOCKS / f"{lock_name(group)}.lock"
    if not path.is_file():
        return False
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
