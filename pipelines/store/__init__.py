"""The Zarr contract: the products registry, all-or-nothing publication, and the only readers and
writers of the farm stores (no other package opens a store)."""
