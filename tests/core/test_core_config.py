import shutil

import pytest

from pipelines.core.config import farm_ids, load_crop, load_farm, load_soils
from pipelines.core.errors import ConfigError


def test_sample_farm_is_a_souss_massa_cooperative_in_utm_29n(farm):
    assert farm.grid.crs == "EPSG:32629"
    assert farm.cooperative.region == "Souss-Massa"
    assert 29.5 < farm.location.lat_deg < 30.8 and -10 < farm.location.lon_deg < -8.9
    assert "chtouka" in farm_ids()


def test_every_parcel_crop_and_soil_is_configured(farm):
    import json

    features = json.loads(farm.path(farm.parcels).read_text())["features"]
    assert 8 <= len(features) <= 12
    soils = load_soils()
    for feature in features:
        props = feature["properties"]
        crop = load_crop(props["crop"])
        assert crop.kcb_mid >= crop.kcb_ini or crop.kind == "tree"
        assert props["soil_texture"] in soils
        assert props["irrigation_method"] in {"drip", "sprinkler", "surface"}


def test_soil_water_holding_matches_fao56_table19():
    soils = load_soils()
    # FAO-56 Table 19: sandy loam holds about 0.06-0.16 m3/m3 of available water.
    taw_per_m = soils["sandy_loam"].theta_fc - soils["sandy_loam"].theta_wp
    assert 0.06 <= taw_per_m <= 0.16


def _copy_configs(tmp_path, farm):
    root = tmp_path / "configs"
    shutil.copytree(farm.directory.parent.parent, root)
    return root


def test_bad_farm_field_names_file_field_and_fix(tmp_path, farm):
    root = _copy_configs(tmp_path, farm)
    path = root / "farms" / "chtouka" / "farm.yaml"
    path.write_text(path.read_text().replace("resolution_m: 0.25", "resolution_m: -1"))
    with pytest.raises(ConfigError) as err:
        load_farm("chtouka", root)
    assert "farm.yaml" in str(err.value) and "grid.resolution_m" in str(err.value)


def test_geographic_crs_is_refused_with_a_fix(tmp_path, farm):
    root = _copy_configs(tmp_path, farm)
    path = root / "farms" / "chtouka" / "farm.yaml"
    path.write_text(path.read_text().replace("crs: EPSG:32629", "crs: EPSG:4326"))
    with pytest.raises(ConfigError, match="UTM zone"):
        load_farm("chtouka", root)


def test_unknown_crop_lists_the_known_ones():
    with pytest.raises(ConfigError, match="durum_wheat"):
        load_crop("saffron")
