"""Sub-commands of the `saqi` console script; each module exposes `register(subparsers)`."""
