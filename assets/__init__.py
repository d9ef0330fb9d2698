"""Dagster assets, one module per stage. Each asset reads its inputs, calls one library
function, writes its product to the farm store and reports what an agronomist looks at first."""
