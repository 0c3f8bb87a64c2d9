"""HTTP metrics of this process, and the ``/metrics`` page that adds the database's figures.

The request counter and latency histogram are labelled by the route *template*
(``/details/{serial}``), never the raw path, so the number of series stays bounded whatever
serials clients send; a request no route matched counts as ``unmatched``.

Several worker processes: ``pointflex serve --workers N`` points every worker at one
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode), so whichever worker
answers a scrape reports the sum over all of them. Without that variable (one worker, or an
app run by another server) each process reports its own figures. The business figures come
from the database (see :mod:`pointflex.observability.collector`) and are the same from any
process.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Up to a minute: exports and bulk stops stream for a while.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Their own registry, not prometheus-client's global one: nothing else registers there by
# accident, and the page below decides what it shows.
HTTP_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "pointflex_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ("method", "route", "status"),
    registry=HTTP_REGISTRY,
)
LATENCY = Histogram(
    "pointflex_http_request_duration_seconds",
    "Time from receiving a request to the end of its answer, by method and route template.",
    ("method", "route"),
    buckets=BUCKETS,
    registry=HTTP_REGISTRY,
)


def record(method: str, route: str, status: int, seconds: float) -> None:
    label = method if method in METHODS else "other"
    REQUESTS.labels(label, route, str(status)).inc()
    LATENCY.labels(label, route).observe(seconds)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def page(database: Collector) -> bytes:
    """The text exposition: this process's (or all workers') HTTP metrics, then ``database``."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        # Reads the files every worker writes; process-level figures (CPU, memory) would be
        # those of whichever worker answered, so they are left out.
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(database)
    else:
        for part in (HTTP_REGISTRY, PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR, database):
            registry.register(part)
    return generate_latest(registry)
