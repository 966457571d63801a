"""An organisation's day, replayed: 9 teams, 300 repositories, about 50,000 webhooks with the mix of a
real day, compressed in time, against the fake GitHub; once with one process on SQLite, once with two
replicas on one Redis (behind a round-robin "load balancer": this script).

The day: pull requests opened through the working hours (more at 9-12 and 13-17), each with its CI
(a dozen check runs and a check suite per commit, completing minutes apart), one or two more pushes
(a push event, a synchronize, and CI again), reviews, label changes, comments (one in ten a
``/nexus dod``), and most of them merged; backlog issues opened, labelled and edited.

Time is compressed (NEXUS_ORGDAY_SECONDS real seconds for 24 h, default 600): the bot's time windows
(coalescing, low-quota merging, the write budget's 80 a minute) are compressed by the same factor,
and the fake GitHub's quota is 5,000 an hour of the simulated clock, so what is measured is what the
same day would cost in real time.

Reports per run: charged API calls per installation-hour (mean and the busiest hour; must stay under
5,000), time from webhook to verdict (p50, p95, in real seconds, under the compressed day's load: the
processing is not slowed down by the compression), deliveries lost (accepted, never done: must be 0), peak RSS per process, CPU
seconds per 1,000 webhooks, writes the budget paced, batches held for the quota's reset, batches covered
by another evaluation, and calls GitHub refused (like GitHub, the fake answers 403 once the hour's 5,000
are spent: must be 0).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from bot.config import default_config_text  # noqa: E402
from tests.fakes.github import FakeGitHub  # noqa: E402
from tests.process import BotProcess  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

DAY = 86_400
BACKLOG = 20  # open backlog items per repository at the start of the day
TEAMS = ["backend", "frontend", "infra", "ia", "data", "mobile", "payments", "search", "platform"]
JOBS = ["tests", "lint", "unit-tests", "coverage / backend", "security audit", "deploy staging (smoke)", "build",
        "e2e", "typecheck", "docs", "migrations", "container scan"]
# the share of the day's activity in each hour (a working day in one time zone)
HOURS = [0.2] * 7 + [0.5, 1.5, 2.5, 2.5, 2.5, 1.5, 2.5, 2.5, 2.5, 2.5, 1.5, 0.8, 0.8, 0.3, 0.3, 0.3, 0.3]


def org_config(factor: float) -> str:
    """The default config with nine teams, each owning its directories (its cache of team members
    compressed like the day)."""
    _, text = default_config_text()
    text = re.sub(r"membership_ttl_seconds: *\d+", lambda m: f"membership_ttl_seconds: {max(1, round(600 / factor))}", text)
    head, rest = text.split("\nteams:\n", 1)
    tail = rest[rest.index("\nlabels:\n"):]
    teams = "".join(f"  {t}:\n    name: {t.title()}\n    paths: [\"{t}/\"]\n    codeowners: [\"@org/{t}\"]\n"
                    for t in TEAMS)
    return head + "\nteams:\n" + teams + tail


class DayGitHub(FakeGitHub):
    """The fake GitHub with a quota of 5,000 calls per hour of the simulated day."""

    def __init__(self, clock, **kw):
        super().__init__(**kw)
        self.clock = clock
        self.by_hour: dict[int, int] = {}
        self._hour, self._base = -1, 0
        self.refused = 0  # calls answered 403: the hour's quota was spent

    async def _answer(self, request, handler, record):
        """Like GitHub: with the hour's quota spent, a 403 that says so (and costs nothing)."""
        self._rate_headers()
        if self.charged - self._base >= 5000 and request.path.startswith("/repos/"):
            self.refused += 1
            self.charged -= 1  # the middleware counts every answer but a 304
            return web.json_response({"message": "API rate limit exceeded for installation ID 1.",
                                      "documentation_url": "https://docs.github.com/rest/rate-limit"}, status=403)
        return await super()._answer(request, handler, record)

    def _rate_headers(self) -> dict[str, str]:
        hour = min(23, int(self.clock.sim() // 3600))
        if hour != self._hour:
            self._hour, self._base = hour, self.charged
        used = self.charged - self._base
        self.by_hour[hour] = used
        reset = self.clock.real_at((hour + 1) * 3600)
        return {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(max(0, 5000 - used)),
                "X-RateLimit-Used": str(used), "X-RateLimit-Resource": "core", "X-RateLimit-Reset": str(int(reset))}


@dataclass
class Clock:
    seconds: float  # real seconds for the day
    start: float = field(default_factory=time.time)

    @property
    def factor(self) -> float:
        return DAY / self.seconds

    def sim(self) -> float:
        return (time.time() - self.start) * self.factor

    def real_at(self, sim: float) -> float:
        return self.start + sim / self.factor


def plan(rng: random.Random, webhooks: int, repos: list[str]) -> list[tuple[float, tuple]]:
    """(simulated time, step) for the day, sorted by time."""
    weights = [w / sum(HOURS) for w in HOURS]

    def when() -> float:
        hour = rng.choices(range(24), weights)[0]
        return hour * 3600 + rng.random() * 3600

    steps: list[tuple[float, tuple]] = []
    numbers: dict[str, int] = {}
    issue_budget = int(webhooks * 0.15)
    count = lambda: len(steps) + sum(1 for _, s in steps if s[0] == "push")  # noqa: E731 - a push sends two
    while count() < webhooks - issue_budget:
        repo = rng.choice(repos)
        n = numbers[repo] = numbers.get(repo, 0) + 1
        t = when()
        owner = TEAMS[repos.index(repo) % len(TEAMS)]
        other = rng.choice(TEAMS) if rng.random() < 0.25 else owner  # a quarter are cross-team
        steps.append((t, ("open", repo, n, owner, other)))
        commits = [t] + sorted(t + rng.uniform(1800, 4 * 3600) for _ in range(rng.choice([1, 1, 2])))
        for i, at in enumerate(commits):
            if i:
                steps.append((at, ("push", repo, n, i)))
            ends = sorted(at + rng.uniform(120, 1200) for _ in JOBS)
            steps += [(end, ("check", repo, n, i, job)) for end, job in zip(ends, JOBS)]
            steps.append((ends[-1] + 5, ("suite", repo, n, i)))
        last = commits[-1] + 1300
        steps += [(last + rng.uniform(0, 7200), ("review", repo, n)) for _ in range(2)]
        steps += [(t + rng.uniform(0, 3 * 3600), ("label", repo, n)) for _ in range(2)]
        steps.append((t + rng.uniform(600, 5 * 3600), ("comment", repo, n)))
        if rng.random() < 0.7:
            steps.append((last + 7300 + rng.uniform(0, 3600), ("merge", repo, n)))
    issue = 100_000
    while count() < webhooks:
        repo = rng.choice(repos)
        issue += 1
        t = when()
        steps.append((t, ("issue", repo, issue, TEAMS[repos.index(repo) % len(TEAMS)])))
        steps += [(t + rng.uniform(60, 7200), ("issue_label", repo, issue)) for _ in range(2)]
        steps.append((t + rng.uniform(60, 7200), ("issue_edit", repo, issue)))
    # by time; at equal times (the day's last second) in the order they were planned: a PR is opened first
    return [(at, step) for at, _, step in sorted((min(at, DAY - 1), i, step) for i, (at, step) in enumerate(steps))]


def build(fake: FakeGitHub, rng: random.Random, step: tuple) -> list[tuple[dict, bytes]]:
    """Make the step's change on the fake; the webhooks GitHub would send for it."""
    kind, repo, n = step[:3]
    if kind == "open":
        owner, other = step[3], step[4]
        files = [f"{owner}/src/{n}.py", "CHANGELOG.md"] + ([f"{other}/src/{n}.ts"] if other != owner else [])
        fake.add_pr(repo, n, title=f"feat: change {n}", body=f"Closes #{50_000 + rng.randint(1, BACKLOG)}\n\n- [x] tests",
                    files=files, labels=[f"team:{owner}"], head_sha=f"{rng.getrandbits(160):040x}")
        return [fake.webhook("pull_request", "opened", repo, n)]
    if kind == "issue":
        fake.add_issue(repo, n, title=f"As a user I want change {n}", labels=[f"team:{step[3]}"],
                       body="## User story\nAs a user I want it.\n\n## Acceptance criteria\n"
                            "Given a change\nWhen it ships\nThen it works\n\nEstimation: 3 points\n")
        return [fake.webhook("issues", "opened", repo, n)]
    if kind == "push":
        sha = f"{rng.getrandbits(160):040x}"
        before = fake._pull(repo, n).head_sha
        fake.push(repo, n, sha)
        return [fake.webhook("push", None, repo, ref=f"refs/heads/feature-{n}", before=before, after=sha,
                             paths=[f.get("filename") for f in fake._pull(repo, n).files][:3]),
                fake.webhook("pull_request", "synchronize", repo, n)]
    if kind == "check":
        pull = fake._pull(repo, n)
        sha = pull.shas[min(step[3], len(pull.shas) - 1)]
        run = fake.add_check_run(repo, sha, step[4], summary="Coverage: 91.0%" if "coverage" in step[4] else "")
        return [fake.webhook("check_run", "completed", repo, n, check_run_id=run)]
    if kind == "suite":
        pull = fake._pull(repo, n)
        return [fake.webhook("check_suite", "completed", repo, n, sha=pull.shas[min(step[3], len(pull.shas) - 1)])]
    if kind == "review":
        fake.add_review(repo, n, rng.choice(["bob", "carol", "dana", "erin"]), "APPROVED")
        return [fake.webhook("pull_request_review", "submitted", repo, n)]
    if kind in ("label", "issue_label"):
        label = rng.choice(["P1", "P2", "feature", "bug", "milestone:2", "points:3"])
        fake.set_labels(repo, n, sorted(set(fake.issues[(repo, n)].labels) | {label}))
        return [fake.webhook("pull_request" if kind == "label" else "issues", "labeled", repo, n, label=label)]
    if kind == "comment":
        body = "/nexus dod" if rng.random() < 0.1 else "Looks good, one question on the migration."
        fake.add_comment(repo, n, rng.choice(["bob", "carol"]), body)
        return [fake.webhook("issue_comment", "created", repo, n)]
    if kind == "merge":
        fake.close(repo, n, merged=True)
        return [fake.webhook("pull_request", "closed", repo, n)]
    if kind == "issue_edit":
        fake.issues[(repo, n)].body += "\nDepends on #7"
        return [fake.webhook("issues", "edited", repo, n)]
    raise ValueError(kind)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """``q`` of a Prometheus histogram (cumulative (upper bound, count) pairs), interpolated."""
    total = buckets[-1][1] if buckets else 0
    if not total:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = upper, count
    return lower


async def scrape(bot: BotProcess) -> dict:
    async with bot._session.get(bot.url + "/metrics") as response:
        text = await response.text()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


async def run(mode: str, webhooks: int, seconds: float, repos_count: int = 300) -> dict:
    rng = random.Random(2026)
    clock = Clock(seconds)
    fake = DayGitHub(clock, strict=False)  # shapes are checked in the tests; here only the load
    await fake.start()
    for team in TEAMS:
        fake.set_team("org", team, [f"{team}-dev{i}" for i in range(4)])
    repos = [f"org/repo-{i:03d}" for i in range(repos_count)]
    workdir = Path(tempfile.mkdtemp(prefix=f"nexus-orgday-{mode}-"))
    config = workdir / "nexus.yml"
    factor = DAY / seconds
    config.write_text(org_config(factor))
    for repo in repos:  # the backlog as it stood in the morning: the items pull requests close
        for item in range(1, BACKLOG + 1):
            fake.add_issue(repo, 50_000 + item, title=f"Item {item}", labels=["ready", "points:3"])
    env = {"LOG_LEVEL": "warn", "NEXUS_CONFIG": str(config), "COALESCE_SECONDS": f"{2 / factor:.4f}",
           "LOW_QUOTA_COALESCE_SECONDS": f"{30 / factor:.4f}", "WRITES_PER_MINUTE": str(int(80 * factor)),
           "RETRY_BASE_SECONDS": "0.2", "RETRY_MAX_SECONDS": "5", "ORG_CONFIG_TTL_SECONDS": f"{300 / factor:.3f}",
           "CONFIG_TTL_SECONDS": f"{300 / factor:.3f}", "CONFIG_MISSING_TTL_SECONDS": f"{3600 / factor:.3f}",
           "WORKERS": "8"}
    server = None
    if mode == "redis":
        server = await RedisServer(workdir / "redis", fsync="everysec").start()
        env["REDIS_URL"] = server.url
        bots = [BotProcess(workdir / f"bot{i}", github=fake, **env) for i in range(2)]
    else:
        bots = [BotProcess(workdir / "bot", github=fake, **env)]
    for bot in bots:
        await bot.start()
    day = plan(rng, webhooks, repos)
    statuses: dict[int, int] = {}
    accepted: set[str] = set()
    sent = 0

    async def send(bot: BotProcess, headers: dict, body: bytes) -> None:
        status, _ = await bot.post("/webhooks/github", headers, body)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 202:
            accepted.add(headers["X-GitHub-Delivery"])

    cpu0 = [cpu_seconds(b.proc.pid) for b in bots]
    clock.start = time.time()
    tasks = []
    for at, step in day:
        await asyncio.sleep(max(0.0, clock.real_at(at) - time.time()))
        for headers, body in build(fake, rng, step):
            tasks.append(asyncio.create_task(send(bots[sent % len(bots)], headers, body)))
            sent += 1
    await asyncio.gather(*tasks)
    sent_in = time.time() - clock.start
    await bots[0].settle(timeout=900)
    finished_in = time.time() - clock.start
    metrics = [await scrape(b) for b in bots]
    cpu = sum(cpu_seconds(b.proc.pid) - c for b, c in zip(bots, cpu0))
    peaks = [peak_rss_mb(b.proc.pid) for b in bots]
    states = server.deliveries() if server else bots[0].deliveries()
    for bot in bots:
        await bot.kill(signal.SIGTERM)
    lost = [d for d in accepted if states.get(d, ("missing",))[0] not in ("done", "failed")]
    failed = [d for d in accepted if states.get(d, ("missing",))[0] == "failed"]

    buckets: dict[float, float] = {}
    for m in metrics:
        for s in m["nexus_webhook_to_verdict_seconds"]:
            if s.name.endswith("_bucket"):
                bound = float(s.labels["le"])
                buckets[bound] = buckets.get(bound, 0) + s.value
    ordered = sorted(buckets.items())

    def total(name: str, sample: str) -> float:
        return sum(s.value for m in metrics for s in m.get(name, []) if s.name == sample)

    hours = [fake.by_hour.get(h, 0) for h in range(24)]
    p50, p95 = quantile(ordered, 0.5), quantile(ordered, 0.95)
    result = {
        "mode": mode, "processes": len(bots), "repositories": repos_count, "teams": len(TEAMS),
        "webhooks_sent": sent, "statuses": statuses, "compression": round(factor, 1),
        "send_seconds": round(sent_in, 1), "all_done_seconds": round(finished_in, 1),
        "charged_per_installation_hour": {"mean": round(sum(hours) / 24), "busiest": max(hours), "by_hour": hours},
        "forge_requests": len(fake.requests), "forge_charged": fake.charged,
        "charged_by_route": dict(collections.Counter(
            f"{r.method} {getattr(r, 'route', None) or r.path}" for r in fake.requests if r.status not in (304, 403)).most_common(12)),
        "webhooks_per_s": round(sent / sent_in, 1),
        "webhook_to_verdict_s": {"p50": round(p50, 3) if p50 else None, "p95": round(p95, 3) if p95 else None},
        "lost": len(lost), "failed": len(failed),
        "evaluations": int(total("nexus_evaluations", "nexus_evaluations_total")),
        "peak_rss_mb": peaks, "cpu_seconds": round(cpu, 1),
        "cpu_seconds_per_1000_webhooks": round(cpu / sent * 1000, 2),
        "paced_writes": int(total("nexus_budget_paced_writes", "nexus_budget_paced_writes_total")),
        "merged_low_quota": int(total("nexus_budget_merged_events", "nexus_budget_merged_events_total")),
        "held_for_reset": int(total("nexus_budget_quota_holds", "nexus_budget_quota_holds_total")),
        "covered": int(total("nexus_batches_covered", "nexus_batches_covered_total")),
        "refused_by_github": fake.refused,
    }
    for bot in bots:
        await bot.close()
    if server:
        await server.stop()
    await fake.stop()
    return result


def main() -> list[dict]:
    webhooks = int(os.environ.get("NEXUS_ORGDAY_WEBHOOKS", "50000"))
    seconds = float(os.environ.get("NEXUS_ORGDAY_SECONDS", "600"))
    modes = os.environ.get("NEXUS_ORGDAY_MODES", "sqlite redis").split()
    results = []
    for mode in modes:
        r = asyncio.run(run(mode, webhooks, seconds))
        results.append(r)
        c = r["charged_per_installation_hour"]
        print(f"== {mode}: {r['processes']} process(es), {r['webhooks_sent']} webhooks over {r['repositories']} "
              f"repositories, {r['teams']} teams, a day in {r['send_seconds']} s (x{r['compression']})")
        print(f"charged API calls per installation-hour: mean {c['mean']}, busiest hour {c['busiest']} (limit 5,000)")
        print(f"webhook to verdict: p50 {r['webhook_to_verdict_s']['p50']} s, p95 {r['webhook_to_verdict_s']['p95']} s "
              f"(real seconds, at {r['webhooks_per_s']} webhooks/s on average)")
        print(f"lost {r['lost']}, failed {r['failed']}, statuses {r['statuses']}, {r['evaluations']} evaluations, "
              f"all done {r['all_done_seconds']} s after the start")
        print(f"peak RSS {r['peak_rss_mb']} MB, CPU {r['cpu_seconds_per_1000_webhooks']} s per 1,000 webhooks, "
              f"paced writes {r['paced_writes']}, events merged on low quota {r['merged_low_quota']}")
        print(f"batches held for the quota's reset {r['held_for_reset']}, batches covered by another evaluation "
              f"{r['covered']}, calls GitHub refused (quota spent) {r['refused_by_github']}")
    return results


if __name__ == "__main__":
    print(json.dumps(main()))
