"""Prometheus metrics: request counts and latency per route, and time per assistant stage.

Each app owns its registry, so two apps in one process (tests, a benchmark) never share counters.
Routes are labelled by their template (``/v1/conversations/{conversation_id}``), never the raw path, and
methods by name only when HTTP defines them, so the number of series stays bounded whatever clients send.
"""

import time
from collections.abc import Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Chat turns on a CPU generator take seconds; classify and search take milliseconds: buckets cover both.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# uvicorn's HTTP parser (h11) passes on any token as the method: labelled as sent, every request with a new
# made-up method (no API key needed) added series that /metrics kept and rendered for the process's life.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
_OTHER_METHOD = "other"


def _method_label(method: str) -> str:
    """The request's method as a label: one of HTTP's methods, or ``other``."""
    return method if method in _METHODS else _OTHER_METHOD


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "naa_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "naa_http_request_duration_seconds",
            "Time to the end of the response body, by route.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.stages = Histogram(
            "naa_assistant_stage_duration_seconds",
            "Time per assistant stage (intent, retrieval, generation, total).",
            ["stage"],
            buckets=_BUCKETS,
            registry=self.registry,
        )

    def observe_stages(self, timings_ms: Mapping[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.stages.labels(stage).observe(ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every HTTP request and times it to its last body byte (SSE streams included)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = _method_label(scope["method"])
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
