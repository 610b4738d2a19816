"""Prometheus metrics of one API instance, in a registry of its own (several apps in one process never clash)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Why a request was refused, by its status code (everything the API answers without an answer).
REFUSAL_REASONS = {
    400: "bad_question", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
    422: "invalid", 429: "rate_limited", 500: "error", 503: "unavailable", 504: "timeout",
}
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
SCORE_BUCKETS = tuple(i / 10 for i in range(1, 11))


class ApiMetrics:
    def __init__(self, chunk_count: Callable[[], float], in_flight: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "finbot_http_requests", "HTTP requests by route, method and status.", ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "finbot_http_request_duration_seconds", "Time to answer an HTTP request, by route.", ["route"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.answers = Counter("finbot_answers", "Answers given (abstentions included).", registry=self.registry)
        self.abstentions = Counter(
            "finbot_abstentions", "Answers that said the documents don't cover the question.", registry=self.registry
        )
        self.refusals = Counter(
            "finbot_refusals", "Requests refused without an answer, by reason.", ["reason"], registry=self.registry
        )
        self.confidence = Histogram(
            "finbot_answer_confidence", "Confidence of each answer (0-1).", buckets=SCORE_BUCKETS,
            registry=self.registry,
        )
        self.top_score = Histogram(
            "finbot_retrieval_top_score", "Retrieval score of each answer's first source (0-1).",
            buckets=SCORE_BUCKETS, registry=self.registry,
        )
        Gauge("finbot_index_chunks", "Chunks in the index (NaN when it cannot be reached).",
              registry=self.registry).set_function(chunk_count)
        Gauge("finbot_answers_in_flight", "Answers computing now.", registry=self.registry).set_function(in_flight)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if status >= 400:
            self.refusals.labels(REFUSAL_REASONS.get(status, f"http_{status}")).inc()

    def observe_answer(self, abstained: bool, confidence: float, top_score: float | None) -> None:
        self.answers.inc()
        if abstained:
            self.abstentions.inc()
        self.confidence.observe(confidence)
        if top_score is not None:
            self.top_score.observe(top_score)

    def render(self) -> bytes:
        return generate_latest(self.registry)
