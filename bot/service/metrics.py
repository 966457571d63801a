"""Prometheus metrics (``/metrics``, the standard text format): one registry per process, the series
an operator of a webhook service expects, named ``nexus_*``.

Counters are incremented where things happen (the web layer, the workers, the forge traffic, the use
cases through ``app.ports.Observations``); what is a state rather than an event (queue depth, age of
the oldest delivery, cache hits) is read when Prometheus scrapes.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WORK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter("nexus_deliveries", "Webhook deliveries received, by outcome "
                                  "(accepted, duplicate, rejected, ignored)", ("forge", "event", "outcome"), registry=r)
        self.accept_seconds = Histogram("nexus_accept_seconds", "Time from a delivery's arrival to its answer "
                                        "(the 202 is sent once it is stored)", buckets=LATENCY_BUCKETS, registry=r)
        self.processing_seconds = Histogram("nexus_processing_seconds", "Time to process one batch of events for "
                                            "one pull request or issue, forge calls included",
                                            buckets=WORK_BUCKETS, registry=r)
        self.verdict_seconds = Histogram("nexus_webhook_to_verdict_seconds", "Time from a delivery's arrival to "
                                         "the verdict it led to", buckets=WORK_BUCKETS, registry=r)
        self.evaluations = Counter("nexus_evaluations", "DoD verdicts published, by verdict", ("forge", "verdict"),
                                   registry=r)
        self.waivers = Counter("nexus_waived_items", "Waived DoD items in the verdicts published", ("forge",),
                               registry=r)
        self.config_errors = Counter("nexus_config_errors", "Configs met that cannot be used (organisation, "
                                     "repository)", ("source",), registry=r)
        self.forge_calls = Counter("nexus_forge_api_calls", "Forge API calls, by route and status; charged=false "
                                   "for conditional reads answered 304 (free on GitHub)",
                                   ("forge", "route", "method", "status", "charged"), registry=r)
        self.quota_remaining = Gauge("nexus_forge_quota_remaining", "API calls left in the current rate-limit "
                                     "window, per installation (from the forge's response headers)",
                                     ("forge", "installation"), registry=r)
        self.paced_seconds = Counter("nexus_budget_paced_seconds", "Time writes waited to stay under the forge's "
                                     "secondary rate limits", ("forge",), registry=r)
        self.paced_writes = Counter("nexus_budget_paced_writes", "Writes that waited for the write budget",
                                    ("forge",), registry=r)
        self.merged_low = Counter("nexus_budget_merged_events", "Events merged into an evaluation already waiting "
                                  "because the installation's quota was low", ("forge",), registry=r)
        self.covered = Counter("nexus_batches_covered", "Batches done without an evaluation: one of the same item "
                               "that began after their events arrived (another replica's, or one they waited "
                               "for) had judged them", ("forge",), registry=r)
        self.quota_holds = Counter("nexus_budget_quota_holds", "Batches held until the rate-limit window resets "
                                   "(the quota nearly spent), merging the events that arrive meanwhile",
                                   ("forge",), registry=r)
        self.queue_depth = Gauge("nexus_queue_deliveries", "Deliveries in the store, by state", ("state",), registry=r)
        self.queue_oldest = Gauge("nexus_queue_oldest_age_seconds", "How long the oldest delivery not yet done "
                                  "has waited", registry=r)
        self.lock_waits = Counter("nexus_entity_lock_waits", "Times a batch waited for another process's evaluation "
                                "of the same pull request or issue", registry=r)
        self._caches: list = []
        r.register(_CacheCollector(self._caches))

    def watch_caches(self, reads) -> None:
        """``reads``: a CachedReads whose per-cache hits and misses are reported at each scrape."""
        self._caches.append(reads)

    def text(self) -> bytes:
        return generate_latest(self.registry)

    # ---- app.ports.Observations ----------------------------------------------------------------

    def verdict(self, forge: str, state: str, waived: int) -> None:
        self.evaluations.labels(forge, state).inc()
        if waived:
            self.waivers.labels(forge).inc(waived)

    def config_error(self, source: str) -> None:
        self.config_errors.labels(source).inc()


class _CacheCollector:
    def __init__(self, sources: list):
        self.sources = sources

    def describe(self):
        return []

    def collect(self):
        hits = CounterMetricFamily("nexus_cache_hits", "Reads answered from the bot's caches", labels=["cache"])
        misses = CounterMetricFamily("nexus_cache_misses", "Reads the caches had to ask the forge", labels=["cache"])
        totals: dict[str, list[int]] = {}
        for reads in self.sources:
            for name, (hit, miss) in reads.by_cache.items():
                total = totals.setdefault(name, [0, 0])
                total[0] += hit
                total[1] += miss
        for name, (hit, miss) in sorted(totals.items()):
            hits.add_metric([name], hit)
            misses.add_metric([name], miss)
        yield hits
        yield misses
