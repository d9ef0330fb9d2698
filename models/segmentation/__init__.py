"""Crop / weed / soil segmentation (no Dagster): vegetation mask, pseudo-labels, smp network,
training, tiled inference. torch is imported inside functions only."""
