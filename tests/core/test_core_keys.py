import datetime as dt

import pytest

from pipelines.core.errors import InputDataError
from pipelines.core.keys import FlightKey


def test_flight_key_round_trip():
    key = FlightKey.parse("chtouka-20260115-2")
    assert (key.farm, key.date, key.number) == ("chtouka", dt.date(2026, 1, 15), 2)
    assert str(key) == "chtouka-20260115-2" and key.folder == "20260115-2"


@pytest.mark.parametrize("bad", ["../etc-20260115", "chtouka-2026011", "chtouka/x-20260115", "/abs-20260115",
                                 "chtouka-20261315", "Chtouka-20260115"])
def test_unsafe_or_malformed_keys_are_refused(bad):
    with pytest.raises(InputDataError):
        FlightKey.parse(bad)
