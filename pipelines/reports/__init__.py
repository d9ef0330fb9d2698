"""Parcel and cooperative reports (no Dagster): model, maps, advice, i18n, render, delivery."""
