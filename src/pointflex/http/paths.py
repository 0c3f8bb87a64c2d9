"""Which requests belong to the portal (HTML pages) and which to the APIs (JSON)."""

from __future__ import annotations

# Everything the APIs answer lives under these; every other path is the portal's.
API_PREFIXES = ("/ES/api/", "/api/", "/.well-known/")
# Probes and the Prometheus scrape (pointflex.observability): machine-read JSON and text,
# so neither the portal's HTML error pages nor its headers apply.
OPS_PATHS = ("/metrics", "/healthz", "/readyz")


def is_api_path(path: str) -> bool:
    # Matched case-insensitively: clients send /es/api/ too (the path normaliser fixes it
    # before routing, but error handlers may see a request that never reached it).
    lowered = path.lower()
    return lowered in ("/es/api", "/api", *OPS_PATHS) or any(
        lowered.startswith(p.lower()) for p in API_PREFIXES
    )


def is_portal_path(path: str) -> bool:
    return not is_api_path(path)
