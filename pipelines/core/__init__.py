"""The lowest layer: configuration, errors, keys, the farm grid and band roles (imports nothing of ours)."""
