"""Flight partition keys `<farm>-<yyyymmdd>[-n]`, validated before they ever reach a path."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pipelines.core.errors import InputDataError

FLIGHT_KEY = re.compile(r"^(?P<farm>[a-z][a-z0-9_]{1,40})-(?P<date>\d{8})(?:-(?P<n>[1-9]\d?))?$")
FOLDER = re.compile(r"^(?P<date>\d{8})(?:-(?P<n>[1-9]\d?))?$")
FARM = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


def farm_id(text: str) -> str:
    """Return `text` if it is a farm id safe to put in a path (no '..', separator or absolute path)."""
    if not isinstance(text, str) or not FARM.match(text):
        raise InputDataError(str(text), "not a farm id",
                             "use 2-41 lower-case letters, digits or '_', starting with a letter")
    return text


@dataclass(frozen=True)
class FlightKey:
    """A flight's partition key: farm id, flight date and the number of a same-day repeat (0 = no `-n` suffix)."""

    farm: str
    date: dt.date
    number: int = 0

    @classmethod
    def parse(cls, key: str) -> "FlightKey":
        """Parse `<farm>-<yyyymmdd>[-n]`; InputDataError names the key and the expected form."""
        match = FLIGHT_KEY.match(key)
        if not match:
            raise InputDataError(key, "not a flight key", "use <farm>-<yyyymmdd>[-n], e.g. chtouka-20260115")
        return cls(match["farm"], _date(key, match["date"]), int(match["n"] or 0))

    @classmethod
    def from_folder(cls, farm: str, folder: str) -> "FlightKey":
        """The key of a flight folder `yyyymmdd[-n]` of `farm`; InputDataError for any other name."""
        match = FOLDER.match(folder)
        if not match:
            raise InputDataError(folder, "flight folder name is not yyyymmdd[-n]",
                                 "rename it, e.g. 20260115 or 20260115-2")
        return cls.parse(f"{farm}-{folder}")

    @property
    def folder(self) -> str:
        """The flight's folder name, `yyyymmdd[-n]`."""
        return self.date.strftime("%Y%m%d") + (f"-{self.number}" if self.number else "")

    def __str__(self) -> str:
        return f"{self.farm}-{self.folder}"


def _date(key: str, text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise InputDataError(key, f"'{text}' is not a calendar date", "use yyyymmdd") from None
