"""DoD evaluation time (pure rules, no I/O) for pull requests of 10, 300 and 3000 files against the
default config. Target: under 10 ms for 3000 files, growing linearly."""

from __future__ import annotations

import json
import statistics
import time

from bot.checks import Context, evaluate
from bot.config import default_config_text, load_config
from bot.model import ChangedFile, CheckResult, PullRequest, Review, ReviewState

TEAMS = ["backend/src", "frontend/src", "infra/terraform", "mcp/tools", "docs", "migrations"]


def pull_request(files: int) -> PullRequest:
    paths = [f"{TEAMS[i % len(TEAMS)]}/module_{i}/file_{i}.rs" for i in range(files - 1)] + ["CHANGELOG.md"]
    checks = tuple(CheckResult(n, "completed", "success", t, id=i) for i, (n, t) in enumerate([
        ("tests", ""), ("lint", ""), ("unit-tests", ""), ("integration-tests", ""), ("e2e-tests", ""),
        ("coverage / backend", "Coverage: 91.2%"), ("coverage / frontend", "Coverage 84,0 %"),
        ("bench", "P99 4.1 ms"), ("load-test", "312 req/s"), ("co2", "0.09 g"), ("security audit", ""),
        ("deploy staging (smoke)", ""), ("axe a11y", ""), ("edge arm64", ""), ("terraform plan", ""),
    ]))
    body = "## Rollback plan\nRevert the deploy.\n- [x] Prometheus metrics exposed\n- [x] Grafana alerts\n- [x] PII removed\n"
    return PullRequest(
        forge="github", repo="org/app", number=1, title="feat: x", body=body, author="alice", base_ref="main",
        head_ref="f", head_sha="abc", files=tuple(ChangedFile(p) for p in paths), checks=checks,
        reviews=(Review("bob", ReviewState.APPROVED), Review("carol", ReviewState.APPROVED)),
    )


def measure(files: int, config, rounds: int) -> dict:
    pr = pull_request(files)
    members = {"backend": frozenset({"bob"}), "frontend": frozenset({"carol"}), "infra": frozenset({"bob"}),
               "ia": frozenset({"carol"})}
    context = Context(members=members)
    evaluate(pr, config, context)  # warm the pattern caches, as a running service has them
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        evaluate(pr, config, context)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"files": files, "median_ms": round(statistics.median(times), 3),
            "p95_ms": round(times[int(0.95 * len(times))], 3), "rounds": rounds}


def main() -> list[dict]:
    config = load_config(default_config_text())
    results = [measure(n, config, rounds) for n, rounds in ((10, 2000), (300, 500), (3000, 200))]
    per_file = [(r["median_ms"] - results[0]["median_ms"]) / (r["files"] - 10) for r in results[1:]]
    for r in results:
        print(f"evaluate {r['files']:>5} files: median {r['median_ms']:.3f} ms, p95 {r['p95_ms']:.3f} ms")
    print(f"marginal cost per file: {per_file[0] * 1000:.2f} µs (300), {per_file[1] * 1000:.2f} µs (3000)")
    return results


if __name__ == "__main__":
    print(json.dumps(main()))
