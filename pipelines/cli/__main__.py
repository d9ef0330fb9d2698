"""`python -m pipelines.cli ...`: the same as the `saqi` console script."""
from pipelines.cli import main

raise SystemExit(main())
