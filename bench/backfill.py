"""The backfill of the Nexus metrics' history (``nexus-bot backfill OWNER``) against the fake GitHub:
an organisation with NEXUS_BACKFILL_ITEMS issues and pull requests (default 5,000) spread over the
current sprint and the 6 before it, over 300 repositories, a third of the pull requests deployed to
staging. Reports API calls (charged, and per 1,000 items), wall time, and the peak RSS of the
process; then the same command again (resumed: only the running sprint is read again).
Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.checks.sprints import calendar  # noqa: E402
from bot.config import default_config_text, load_config  # noqa: E402
from tests.fakes.github import FakeGitHub  # noqa: E402

TEAMS = ["team:backend", "team:frontend", "team:infra", "team:ia"]


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(fake: FakeGitHub, items: int) -> None:
    rnd = random.Random(12)
    cal = calendar(load_config(default_config_text()).nexus.sprint)
    now = datetime.now(timezone.utc)
    start = cal.sprint(cal.number(now) - 6).start
    span = (now - start).total_seconds()
    for n in range(1, items + 1):
        repo = f"org/repo-{n % 300:03d}"
        created = start + timedelta(seconds=rnd.random() * span * 0.9)
        labels = [rnd.choice(TEAMS)] + ([f"points:{rnd.choice((1, 2, 3, 5, 8))}"] if n % 2 else [])
        if n % 3 == 0:
            fake.add_pr(repo, n, files=["src/a.py"], labels=labels)
        else:
            fake.add_issue(repo, n, f"Item {n}", "Estimation: 3 points", "alice", labels)
        fake.set_times(repo, n, created=iso(created))
        if rnd.random() < 0.7:
            closed = created + timedelta(hours=rnd.uniform(1, 200))
            closed = min(closed, now - timedelta(minutes=1))
            fake.close(repo, n, merged=n % 3 == 0, at=iso(closed))
            if n % 9 == 0:
                fake.add_deployment(repo, fake.issues[(repo, n)].pull.head_sha, "staging",
                                    iso(min(closed + timedelta(hours=rnd.uniform(1, 60)), now)))


async def main() -> None:
    items = int(os.environ.get("NEXUS_BACKFILL_ITEMS", "5000"))
    fake = FakeGitHub(strict=False)
    await fake.start()
    seed(fake, items)
    work = Path(tempfile.mkdtemp(prefix="nexus-backfill-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FORGEJO_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_PATH=str(work / "bot.sqlite3"), APP_ID=str(fake.app_id),
               PRIVATE_KEY=fake.private_key, GITHUB_API_URL=fake.url)
    runs = []
    for label in ("first", "again"):
        before, charged = len(fake.requests), fake.charged
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            "/usr/bin/time", "-f", "maxrss_kb=%M", sys.executable, "-m", "bot", "backfill", "org", "--sprints", "6",
            env=env, cwd=work, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        seconds = time.perf_counter() - started
        rss = int(re.search(r"maxrss_kb=(\d+)", err.decode()).group(1)) / 1024
        calls = len(fake.requests) - before
        runs.append({"run": label, "calls": calls, "charged": fake.charged - charged, "seconds": round(seconds, 1),
                     "peak_rss_mb": round(rss, 1), "summary": out.decode().strip()})
        print(f"{label}: {calls} API calls ({fake.charged - charged} charged), {calls / items * 1000:.1f} per 1,000 "
              f"items, {seconds:.1f} s, peak RSS {rss:.1f} MB\n  {out.decode().strip()}")
    await fake.stop()
    print(json.dumps({"bench": "backfill", "items": items, "runs": runs}))


if __name__ == "__main__":
    asyncio.run(main())
