"""Management zones: class breaks, delineation, outlines, prescriptions and ISO 11783-10 TASKDATA."""
