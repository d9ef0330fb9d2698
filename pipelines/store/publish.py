"""All-or-nothing publication of a Zarr product group, on a local disk or any fsspec object store.

- Local folder: the product is written into `<store>/_staging/<id>` and moved into place with
  `rename` (atomic on POSIX). Each live writer holds an `flock` on `_staging/<id>.lock`, so the
  debris of a killed writer is recognised exactly (its lock is free) and removed.
- Object store (s3://, gs://, …; no rename there): the product is written under
  `<store>/_staging/<ns>-<id>/`, then the old product's `zarr.json` is deleted first (the product
  is now absent, never half), its objects removed, the staged objects copied server-side with
  every `zarr.json` last and the group's own `zarr.json` very last (a single PUT: the commit
  point). A writer killed mid-copy leaves the product absent; the next write of it replaces the
  leftovers. Staging older than `REMOTE_STALE_S` is removed by the next write or `cleanup`.

Credentials and endpoints come from the environment only (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL…).
One writer per product at a time (a Dagster partition); different products may be written at once.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec

STAGING = "_staging"
TRASH_PREFIX = "old-"
REMOTE_STALE_S = 6 * 3600.0

Store = str | Path


def is_remote(location: Store) -> bool:
    """True for an object-store URL (`scheme://`, except file://)."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def join(root: str, *parts: str) -> str:
    """Join a store location and path parts with '/', without doubled separators."""
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts)])


def _fs(url: str):
    return fsspec.core.url_to_fs(url, use_listings_cache=False)


def exists(location: Store) -> bool:
    """True when the location exists (local path or object-store key/prefix)."""
    if not is_remote(location):
        return os.path.exists(location)
    fs, path = _fs(str(location))
    return fs.exists(path)


def children(location: Store) -> list[str]:
    """Names of the sub-folders (prefixes) directly under `location`."""
    if not is_remote(location):
        return sorted(p.name for p in Path(location).iterdir() if p.is_dir()) if Path(location).is_dir() else []
    fs, path = _fs(str(location))
    if not fs.exists(path):
        return []
    return sorted(e["name"].rstrip("/").rsplit("/", 1)[-1] for e in fs.ls(path,
                                                                          detail=True) if e["type"] == "directory")


def _lock(lock_path: Path):
    """Open and flock a writer's lock file; make sure it is still the file on disk (not unlinked
    by a concurrent cleanup between open and flock)."""
    handle = open(lock_path, "w")
    fcntl.flock(handle, fcntl.LOCK_EX)
    if not lock_path.exists() or os.stat(lock_path).st_ino != os.fstat(handle.fileno()).st_ino:
        handle.close()
        return None
    return handle


@contextlib.contextmanager
def _local_staging(store: Path) -> Iterator[Path]:
    area = store / STAGING
    area.mkdir(parents=True, exist_ok=True)
    cleanup(store)
    handle = None
    while handle is None:
        name = uuid.uuid4().hex
        handle = _lock(area / f"{name}.lock")
    staging = area / name
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        (area / f"{name}.lock").unlink(missing_ok=True)
        handle.close()


@contextlib.contextmanager
def _remote_staging(store: str) -> Iterator[str]:
    cleanup(store)
    staging = join(store, STAGING, f"{time.time_ns()}-{uuid.uuid4().hex}")
    try:
        yield staging
    finally:
        fs, path = _fs(staging)
        if fs.exists(path):
            fs.rm(path, recursive=True)


@contextlib.contextmanager
def store_lock(store: Store, name: str) -> Iterator[None]:
    """Serialise one store-wide step between the local writers of a store (an `flock` on
    `_staging/<name>.lock`); a no-op on an object store, where the last writer's step wins.

    Args:
        store: the farm store (local folder or URL).
        name: the step's name, e.g. `consolidated`.
    """
    if is_remote(store):
        yield
        return
    area = Path(store) / STAGING
    area.mkdir(parents=True, exist_ok=True)
    handle = None
    while handle is None:
        handle = _lock(area / f"{name}.lock")
    try:
        yield
    finally:
        (area / f"{name}.lock").unlink(missing_ok=True)
        handle.close()


def staging_area(store: Store) -> contextlib.AbstractContextManager:
    """A private staging location for one product write, removed on exit whatever happens."""
    return _remote_staging(str(store)) if is_remote(store) else _local_staging(Path(store))


def publish(store: Store, staging: Store, group: str) -> None:
    """Replace the product `group` of `store` with the complete group written at `staging`."""
    if is_remote(store):
        _publish_remote(str(store), str(staging), group)
        return
    store, staging = Path(store), Path(staging)
    target = store / group
    trash = store / STAGING / f"{TRASH_PREFIX}{uuid.uuid4().hex}"
    if target.exists():
        os.rename(target, trash)
    os.rename(staging, target)
    shutil.rmtree(trash, ignore_errors=True)


def _commit_order(relative: str) -> tuple[int, int]:
    """Data objects first, then metadata from the deepest array up, the group's zarr.json last."""
    if relative.rsplit("/", 1)[-1] != "zarr.json":
        return (0, 0)
    return (1, -relative.count("/"))


def _publish_remote(store: str, staging: str, group: str) -> None:
    fs, target = _fs(join(store, group))
    _, source = _fs(staging)
    if fs.exists(f"{target}/zarr.json"):
        fs.rm_file(f"{target}/zarr.json")
    if fs.exists(target):
        fs.rm(target, recursive=True)
    files = [f[len(source.rstrip("/")) + 1:] for f in fs.find(source)]
    for relative in sorted(files, key=_commit_order):
        fs.copy(f"{source}/{relative}", f"{target}/{relative}")


def _cleanup_local(store: Path) -> list[str]:
    area = store / STAGING
    removed = []
    for entry in sorted(area.iterdir()) if area.is_dir() else []:
        if entry.is_dir() and entry.name.startswith(TRASH_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
        elif entry.suffix == ".lock":
            with open(entry, "a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                shutil.rmtree(area / entry.stem, ignore_errors=True)
                entry.unlink(missing_ok=True)
                removed.append(entry.stem)
        elif entry.is_dir() and not (area / f"{entry.name}.lock").exists():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _cleanup_remote(store: str, stale_after_s: float) -> list[str]:
    removed = []
    now_ns = time.time_ns()
    for name in children(join(store, STAGING)):
        started = name.split("-", 1)[0]
        if started.isdigit() and (now_ns - int(started)) / 1e9 >= stale_after_s:
            fs, path = _fs(join(store, STAGING, name))
            fs.rm(path, recursive=True)
            removed.append(name)
    return removed


def cleanup(store: Store, stale_after_s: float = REMOTE_STALE_S) -> list[str]:
    """Remove the staging debris of dead writers; return the names removed."""
    return _cleanup_remote(str(store), stale_after_s) if is_remote(store) else _cleanup_local(Path(store))
