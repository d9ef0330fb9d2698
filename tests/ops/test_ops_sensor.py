"""The landing sensor against a real (ephemeral) instance: a flight is requested once, only after
it is complete and its sizes are stable; a restart with a lost cursor does not repeat it; unsafe
names are refused before they reach a path; an S3 landing prefix works the same way."""
from __future__ import annotations

import dagster as dg
import fsspec
import pytest
import yaml

from pipelines.core.config import configs_dir
from pipelines.core.errors import InputDataError
from pipelines.core.keys import FlightKey
from pipelines.orchestration.resources import SaqiStorage
from pipelines.orchestration.sensors import landing_sensor

MANIFEST = yaml.safe_dump({"sensor": "micasense_altum", "kind": "orthomosaic", "captured": "2026-01-15",
                           "files": ["orthomosaic.tif"]}).encode()


class Landing:
    """Writes files into a landing area (local folder or s3:// URL) and ticks the sensor."""

    def __init__(self, landing: str, data_root, instance):
        self.landing, self.instance, self.cursor = landing.rstrip("/"), instance, None
        self.fs, self.root = fsspec.core.url_to_fs(self.landing, use_listings_cache=False)
        self.storage = SaqiStorage(data_root=str(data_root), landing_dir=self.landing, configs=str(configs_dir()))

    def put(self, relative: str, data: bytes) -> None:
        self.fs.makedirs(f"{self.root}/{relative.rsplit('/', 1)[0]}", exist_ok=True)
        self.fs.pipe_file(f"{self.root}/{relative}", data)

    def tick(self, cursor: str | None = "keep") -> tuple[list[str], list[str]]:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor if cursor == "keep" else cursor,
                                          resources={"storage": self.storage})
        result = landing_sensor(context)
        self.cursor = result.cursor
        added = [k for request in result.dynamic_partitions_requests for k in request.partition_keys]
        self.instance.add_dynamic_partitions("flights", added)
        return [r.partition_key for r in result.run_requests or []], added


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def test_flight_is_requested_once_when_complete_and_stable(tmp_path, instance):
    landing = Landing(str(tmp_path / "landing"), tmp_path, instance)
    landing.put("chtouka/20260115/flight.yaml", MANIFEST)
    landing.put("chtouka/20260115/orthomosaic.tif.part", b"x" * 1000)
    assert landing.tick() == ([], [])                      # still uploading
    landing.fs.mv(f"{landing.root}/chtouka/20260115/orthomosaic.tif.part",
                  f"{landing.root}/chtouka/20260115/orthomosaic.tif")
    assert landing.tick() == ([], [])                      # complete, sizes not yet seen twice
    landing.put("chtouka/20260115/orthomosaic.tif", b"x" * 5000)
    assert landing.tick() == ([], [])                      # grew since the last look
    assert landing.tick() == (["chtouka-20260115"], ["chtouka-20260115"])
    assert landing.tick() == ([], [])                      # never twice
    assert instance.get_dynamic_partitions("flights") == ["chtouka-20260115"]
    # a restart that lost the cursor: the registered partition is not requested again
    assert landing.tick(cursor=None) == ([], [])
    landing.put("chtouka/20260115-2/orthomosaic.tif", b"y" * 300)
    assert landing.tick() == ([], [])
    assert landing.tick() == (["chtouka-20260115-2"], ["chtouka-20260115-2"])


def test_missing_listed_file_keeps_flight_waiting(tmp_path, instance):
    landing = Landing(str(tmp_path / "landing"), tmp_path, instance)
    landing.put("chtouka/20260203/flight.yaml", MANIFEST)
    landing.put("chtouka/20260203/other.tif", b"z" * 10)
    for _ in range(3):
        assert landing.tick() == ([], [])
    assert '"chtouka-20260203"' in landing.cursor


def test_unsafe_names_are_refused_before_reaching_a_path(tmp_path, instance):
    with pytest.raises(InputDataError, match="not a flight key"):
        FlightKey.parse("../../etc-20260101")
    landing = Landing(str(tmp_path / "landing"), tmp_path, instance)
    for name in ("..etc/20260101/a.tif", "Chtouka/20260101/a.tif", "chtouka/20260101..x/a.tif",
                 "chtouka/2026-01-01/a.tif",
                 "unknownfarm/20260101/a.tif"):
        landing.put(name, b"1")
    for _ in range(2):
        assert landing.tick() == ([], [])
    assert instance.get_dynamic_partitions("flights") == []


def test_s3_landing_prefix(bucket, tmp_path, instance):
    landing = Landing(f"{bucket}/landing", tmp_path, instance)
    landing.put("chtouka/20260115/flight.yaml", MANIFEST)
    landing.put("chtouka/20260115/orthomosaic.tif", b"x" * 2048)
    assert landing.tick() == ([], [])
    assert landing.tick() == (["chtouka-20260115"], ["chtouka-20260115"])
    folder = landing.storage.flight_folder(FlightKey.parse("chtouka-20260115"))
    assert sorted(p.name for p in folder.iterdir()) == ["flight.yaml", "orthomosaic.tif"]
    assert (folder / "orthomosaic.tif").stat().st_size == 2048
