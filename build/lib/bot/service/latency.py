"""Durations for /metrics: the last 10,000 samples and their p50 / p95 / p99."""

from __future__ import annotations

from collections import deque


class Latencies:
    def __init__(self, size: int = 10_000):
        self._ms: deque[float] = deque(maxlen=size)

    def add(self, ms: float) -> None:
        self._ms.append(ms)

    def percentiles(self, digits: int) -> dict[int, float]:
        """{50: …, 95: …, 99: …} in ms, rounded; empty before the first sample."""
        data = sorted(self._ms)
        if not data:
            return {}
        return {q: round(data[min(len(data) - 1, q * len(data) // 100)], digits) for q in (50, 95, 99)}
