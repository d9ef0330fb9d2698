"""The embedded sample farm's data generator: a season of synthetic multispectral flights.

`generate_farm_flights(farm, landing_dir, truth_dir)` writes four 5-band RedEdge-MX
orthomosaics of the farm (off the farm grid, as a photogrammetry tool would deliver them) and
their ground truth (class map, water-stress map, noise-free reflectance) on the farm grid.
"""
from pipelines.synthetic.flights import (
    DEFAULT_FLIGHT_DATES,
    DEFAULT_SEED,
    GeneratedFlight,
    generate_farm_flights,
)

__all__ = ["DEFAULT_FLIGHT_DATES", "DEFAULT_SEED", "GeneratedFlight", "generate_farm_flights"]
