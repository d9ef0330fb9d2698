"""Flights onto the farm grid: manifests, raw captures and their vendor metadata, radiometry,
band alignment, direct georeferencing, orthomosaics, reflectance quality."""
