"""Dagster's batched event writes, switched on where the code location loads.

With `DAGSTER_EVENT_BATCH_SIZE` set, Dagster stores a ranged step's asset materialisations in one
INSERT per batch instead of one per event (a season backfill writes 4 assets × 273 days × farms of
them). Apart from the PostgreSQL storages (`pg_storage`) so that loading the definitions does not
import dagster-postgres.
"""
from __future__ import annotations

import os

EVENT_BATCH_SIZE = 1000  # events per INSERT of a ranged step's materialisations


def enable_event_batches() -> None:
    """Ask Dagster to store a step's asset materialisations in batches (unless set already)."""
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", str(EVENT_BATCH_SIZE))
