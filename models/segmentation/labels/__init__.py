"""Training labels: pseudo-labels from crop rows (Bah, Hafiane & Canals 2018), the row geometry, and
hand-drawn GeoJSON labels."""
