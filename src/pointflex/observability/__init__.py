"""Operations: Prometheus metrics, structured request logs, health and readiness probes
(docs/observability.md)."""
