"""The error policy of Saqi, in code (the rule in words: docs/errors.md).

Every failure the pipeline raises on purpose is a `SaqiError` whose message names the input
(file, variable, argument), the field or row when there is one, the problem and the fix.
- Impossible input (cannot give a correct result): refused with `InputDataError` / `ConfigError`,
  exit code 2 at the command line, the flight quarantined in a run.
- Suspicious but usable input: used, with a named warning (`warning_text`) and the repair flagged
  in the product (a `flags` column, a manifest warning).
- The environment failed (disk full, lock not obtained): `StoreError`, exit code 1.
Foreign exceptions (rasterio, OSError, ValueError…) are translated at the boundary with the
input's name by `translate`; a traceback is shown only with `--debug`.
"""

from __future__ import annotations

import errno
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


class SaqiError(Exception):
    """Base of all errors the pipeline raises on purpose."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(SaqiError):
    """A configuration file (farm, sensor, crop) is missing, malformed or inconsistent."""

    def __init__(self, path: str | Path, field: str, problem: str, fix: str):
        self.path, self.field, self.problem, self.fix = str(path), field, problem, fix
        super().__init__(f"{path}: field '{field}': {problem}; {fix}")


class InputDataError(SaqiError):
    """An input (image, parcels, weather, argument) cannot be used as it is.

    `field` names the column, tag, attribute or argument, `row` the row or record, when known."""

    def __init__(self, path: str | Path, problem: str, fix: str, *, field: str | None = None, row: object = None):
        self.path, self.problem, self.fix, self.field, self.row = str(path), problem, fix, field, row
        where = "".join([f" row {row}:" if row is not None else "", f" field '{field}':" if field else ""])
        super().__init__(f"{path}:{where} {problem}; {fix}")


class StoreError(SaqiError):
    """Writing or reading a product failed for a reason outside the input (disk full, lock held)."""

    exit_code = EXIT_FAILURE

    def __init__(self, location: str | Path, problem: str, fix: str):
        self.path, self.problem, self.fix = str(location), problem, fix
        super().__init__(f"{location}: {problem}; {fix}")


def warning_text(name: str | Path, problem: str, repair: str) -> str:
    """A named warning for suspicious but usable input: what was seen and the repair applied (flagged)."""
    return f"{name}: {problem}; {repair}"


def control_characters(text: str) -> list[str]:
    """The control characters (Unicode category Cc: NUL, CR, LF, TAB, ESC, DEL…) found in `text`."""
    return sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cc"})


def refuse_control(text: str, name: str | Path, field: str) -> str:
    """Return `text` unchanged, or refuse it when it holds a control character (ids, subjects, addresses)."""
    found = control_characters(str(text))
    if found:
        raise InputDataError(
            name,
            f"{text!r} holds control character(s) {', '.join(found)}",
            "remove line breaks, tabs and other invisible characters",
            field=field,
        )
    return text


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
DISK_SLACK_BYTES = 1 << 20
"""Free space under which a failed local write is taken for a full disk (GDAL's blocks are smaller)."""


def disk_full(exc: BaseException, folder: str | Path | None = None, needed_bytes: int = 0) -> bool:
    """Whether a write failed for lack of disk space.

    True when `exc`, or an exception it was raised from, is the operating system's 'no space left'
    (ENOSPC) or 'quota exceeded' (EDQUOT), as an OSError's errno or as the system's message; or,
    for a local `folder`, when its disk has less room than `needed_bytes` (at least
    DISK_SLACK_BYTES). The second test is for libraries that lose the errno: GDAL's GeoTIFF
    writer reports a full disk as "TIFFAppendToStrip: Write error at scanline ...".
    """
    texts = [os.strerror(code) for code in DISK_FULL_ERRNOS]
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno in DISK_FULL_ERRNOS:
            return True
        if any(text in str(cause) for text in texts):
            return True
        cause = cause.__cause__ or cause.__context__
    if folder is None:
        return False
    path = Path(folder)
    while not path.exists() and path != path.parent:
        path = path.parent
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize < max(needed_bytes, DISK_SLACK_BYTES)


def translate(exc: BaseException, inputs: Sequence[str | Path] = ()) -> SaqiError:
    """A foreign exception caught at a boundary, as a named `SaqiError` (the inputs of the command
    name the input when the exception itself does not)."""
    if isinstance(exc, SaqiError):
        return exc
    name = getattr(exc, "filename", None) or (", ".join(map(str, inputs)) if inputs else "<input>")
    text = str(exc).strip() or type(exc).__name__
    if disk_full(exc):
        return StoreError(name, "no space left on the device", "free disk space (or raise the quota) and run again")
    if isinstance(exc, PermissionError):
        return InputDataError(name, "permission denied", "check the file's owner and permissions")
    if isinstance(exc, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        return InputDataError(name, f"not found or not a file ({text})", "check the path")
    if _is_rasterio(exc):
        return InputDataError(
            name,
            f"a raster could not be read or written ({text})",
            "check the raster files and the output folder named on the command line",
        )
    if isinstance(exc, (ValueError, TypeError, KeyError, IndexError, UnicodeError, OSError)):
        return InputDataError(
            name, f"cannot be used ({type(exc).__name__}: {text})", "check this input against docs/errors.md"
        )
    error = SaqiError(
        f"{name}: unexpected {type(exc).__name__}: {text}; rerun with --debug and report it with the traceback"
    )
    error.exit_code = EXIT_FAILURE
    return error


def _is_rasterio(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("rasterio")
