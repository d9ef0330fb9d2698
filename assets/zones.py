"""Management zones and prescriptions of one flight.

- `management_zones`: within each parcel, 3 zones of homogeneous vigour from the flight's NDVI
  (k-means, majority-smoothed, fragments under 200 m² merged), ranked 1 = lowest vigour; a
  (y, x) uint8 raster on the farm grid (`<farm>.zarr/flights/<flight>/zones`, 0 = outside) and,
  for the tractor or the drip controller, a variable-rate irrigation prescription per zone
  (GeoJSON, Shapefile, ISO 11783-10 TASKDATA) under `<data_root>/prescriptions/<farm>/<flight>/`.

On an RGB camera flight (no NIR) the zones come from ExG on chromatic coordinates instead of
NDVI; the metadata `vigour_index` says which.

How to read it: zone 1 is where the crop is weakest; a zone that stays low flight after flight
usually points to soil, emitter clogging or salinity rather than to the season.
"""
import dagster as dg

from assets._metadata import OWNERS, card, number, preview, shown, table
from pipelines.core.keys import FlightKey
from pipelines.imagery.indices.rgb import vigour_index
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.imagery.zones.delineation import management_zones as zones_of
from pipelines.imagery.zones.prescription import export_prescription
from pipelines.orchestration.partitions import flights
from pipelines.orchestration.resources import SaqiStorage
from pipelines.reports.maps import zones_map
from pipelines.store import cube, products
from pipelines.store.products import INDICES

N_ZONES = 3
MIN_ZONE_AREA_M2 = 200.0


@dg.asset(partitions_def=flights, group_name="parcels", owners=OWNERS["parcels"], kinds={"zarr", "geojson", "xml"},
          code_version="1", deps=["vegetation_indices"], description=card(__doc__))
def management_zones(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    key = FlightKey.parse(context.partition_key)
    farm, grid, store = storage.farm(key.farm), storage.grid(key.farm), storage.store(key.farm)
    vigour = vigour_index(products.layer_names(store, key, INDICES))
    if vigour is None:
        raise dg.Failure(description=f"flight {key}: no vigour index (NDVI or ExG) to delineate zones",
                         allow_retries=False)
    ndvi = products.layer(store, key, INDICES, vigour)
    zones = zones_of(ndvi, grid, load_parcels(farm, grid), n_zones=N_ZONES, min_area_m2=MIN_ZONE_AREA_M2)
    cube.write_product(store, cube.flight_group(key, "zones"), cube.raster(
        zones.ranks, grid, "zones",
        attrs={"long_name": "management zone rank (1 = lowest vigour, 0 = outside parcels or no data)"}))
    files = export_prescription(zones, "irrigation", storage.folder("prescriptions", key.farm, str(key)),
                                customer=farm.cooperative.name, farm_name=farm.name)
    visible = zones.frame.drop(columns="geometry").round(3)
    return dg.MaterializeResult(metadata=shown({
        "zones": len(zones.frame), "vigour_index": vigour,
        "notes": "; ".join(f"{p}: {n}" for p, n in zones.notes.items()) or "none",
        "zone_area_mean_m2": number(zones.frame["area_m2"].mean()),
        "zones_preview": preview(zones_map(zones.ranks, grid.resolution_m, max_side_px=480).png, "zones"),
        **{f"prescription_{fmt}": dg.MetadataValue.path(str(path)) for fmt, path in files.items()},
        **table(visible, "zones per parcel"),
    }))
