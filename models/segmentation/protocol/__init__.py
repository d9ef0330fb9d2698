"""The evaluation protocol on labelled tiles: reading them, grouped cross-validation on development
tiles, and the held-out test of the frozen recipe (docs/segmentation.md)."""
