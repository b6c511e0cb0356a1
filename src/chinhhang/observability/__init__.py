"""Metrics, structured logs and health endpoints (docs/observability.md).

Cross-cutting and at the bottom of the layers, beside `db`: every domain may count into
`metrics`, and this package imports no domain. web.py wires it in (`wiring.install`); this
file imports nothing, so that a domain counting a scan loads only `metrics`.
"""
