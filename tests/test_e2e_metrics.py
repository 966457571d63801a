"""The Nexus in numbers end to end: a history seeded in the fake forge before the bot first sees the
organisation is backfilled (the first event starts it), ``/nexus metrics`` answers with its numbers,
webhooks afterwards move them, and ``/nexus deps sprint`` lists a blocked cross-team item with its
age. On both forges; the command-line backfill (``nexus-bot backfill``) runs as a real process."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.checks.sprints import calendar
from bot.config import default_config_text, load_config

from .test_e2e_commands import command, reply
from .world import REPO, only

ROOT = Path(__file__).resolve().parent.parent


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sprints():
    """(previous sprint, current sprint) of the default calendar, today."""
    cal = calendar(load_config(default_config_text()).nexus.sprint)
    now = datetime.now(timezone.utc)
    number = cal.number(now)
    return cal.sprint(number - 1), cal.sprint(number)


def seed(world) -> tuple:
    """Last sprint: Backend finished 5 points (#10), Frontend and Backend split 3 + 2 (#11), a PR merged
    (#20, closing #10); this sprint: a cross-team bug (#12) and #13 blocked for 30 hours by Infra's #14."""
    prev, cur = sprints()
    done = prev.start + timedelta(days=2)
    world.open_issue(10, "Expense approval API", "Estimation: 5 points", labels=["team:backend"])
    world.open_issue(11, "Approval screen", "Teams: Frontend (3 pts), Backend (2 pts)\nEstimation: 5 points",
                     labels=["team:frontend", "team:backend"])
    world.open_issue(12, "Totals differ between API and screen", labels=["bug", "nexus"])
    world.open_issue(14, "Mail quota", labels=["team:infra"])
    world.open_issue(13, "Approval e-mail", "Depends on #14", labels=["team:backend", "blocked"])
    for n in (10, 11, 14):
        world.set_times(n, created=iso(prev.start - timedelta(days=3)))
    world.close(10, at=iso(done))
    world.close(11, at=iso(done + timedelta(hours=1)))
    world.set_times(12, created=iso(cur.start + timedelta(hours=1)), updated=iso(cur.start + timedelta(hours=1)))
    blocked_at = datetime.now(timezone.utc) - timedelta(hours=30)
    world.set_times(13, created=iso(blocked_at - timedelta(days=1)), updated=iso(blocked_at))
    return prev, cur, done


async def backfilled(world, timeout: float = 20.0) -> None:
    """Wait for the first-sight backfill's marker in the bot's store."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await world.bot.store.recall(f"backfilled:{world.instance}:org"):
        assert asyncio.get_running_loop().time() < deadline, "the backfill did not finish"
        await asyncio.sleep(0.05)


async def restart_with_backfill(world) -> None:
    await world.bot.stop()
    world.settings["BACKFILL_SPRINTS"] = "2"
    await world.start()


def row(answer: str, who: str) -> list[str]:
    line = next(line for line in answer.splitlines() if line.startswith(f"| {who} ") or line.startswith(f"| **{who}**"))
    return [cell.strip() for cell in line.strip("|").split("|")]


async def test_a_seeded_history_is_backfilled_and_metrics_answer_and_move(world):
    prev, cur, done = seed(world)
    world.permission("carol", "write")
    await restart_with_backfill(world)
    assert await world.send("issue_edited", 13) == 202  # the organisation's first event: the backfill starts
    await world.settle()
    await backfilled(world)

    answer = reply(world, 13, await command(world, 13, f"/nexus metrics sprint {prev.number}"))
    assert row(answer, "Backend")[1].strip("*") == "7"  # 5 + its 2-point share of #11
    assert row(answer, "Frontend")[1].strip("*") == "3"
    assert row(answer, "Nexus")[1].strip("*") == "10"  # each item's points once

    answer = reply(world, 13, await command(world, 13, "/nexus metrics"))
    assert row(answer, "Nexus")[-2].startswith("1")  # the cross-team bug opened this sprint
    assert re.search(r"Blocked now|blocked", answer)
    assert "🔴" in answer.split("| Team |")[0]  # a blockage over 24 h is an alarm, listed before the table

    world.open_issue(15, "Audit trail", "Estimation: 8 points", labels=["team:infra"])  # webhooks move the numbers
    world.close(15)
    assert await world.send("issue_opened", 15) == 202
    await world.settle()
    answer = reply(world, 13, await command(world, 13, "/nexus metrics"))
    assert row(answer, "Infra")[1].strip("*") == "8"

    answer = reply(world, 13, await command(world, 13, "/nexus deps sprint"))
    blocked = next(line for line in answer.splitlines() if "#13" in line)
    assert "#14" in blocked and "Infra" in blocked and re.search(r"\((29|30|31)\.\d h\)", blocked), blocked


@only("github")
async def test_lead_time_from_a_backfilled_merge_and_deployment(world):
    prev, cur, done = seed(world)
    world.open_pr(20, files=["backend/api/approve.py"], body="Closes #10", labels=["team:backend"])
    merged = prev.start + timedelta(days=3)
    world.close(20, merged=True, at=iso(merged))
    world.fake.add_deployment(REPO, world.head(20), "staging", iso(merged + timedelta(hours=30)))
    world.permission("carol", "write")
    await restart_with_backfill(world)
    assert await world.send("issue_edited", 13) == 202
    await world.settle()
    await backfilled(world)
    answer = reply(world, 13, await command(world, 13, f"/nexus metrics sprint {prev.number}"))
    assert row(answer, "Nexus")[3].startswith("30"), answer  # merge to staging: 30 hours
    assert row(answer, "Nexus")[5] == "1/1"


@only("github")
async def test_the_command_line_backfill_shows_progress_and_resumes(world, tmp_path):
    seed(world)
    database = tmp_path / "cli.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FORGEJO_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_PATH=str(database), APP_ID=str(world.fake.app_id),
               PRIVATE_KEY=world.fake.private_key, GITHUB_API_URL=world.fake.url)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "backfill", "org", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    first = await asyncio.to_thread(run, "--sprints", "2")
    assert first.returncode == 0, first.stderr
    assert "backfill org" in first.stderr and "3/3" in first.stderr  # tqdm's bar, one step per sprint
    assert re.search(r"org: 5 items .* from 3 sprints read now \(0 read before\)", first.stdout), first.stdout
    again = await asyncio.to_thread(run, "--sprints", "2")
    assert "from 1 sprints read now (2 read before)" in again.stdout, again.stdout  # the running sprint only
    refused = await asyncio.to_thread(run_for, env, tmp_path, "nobody")
    assert refused.returncode == 1 and "not installed on 'nobody'" in refused.stderr


def run_for(env, cwd, owner):
    return subprocess.run([sys.executable, "-m", "bot", "backfill", owner], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


async def test_a_sprint_that_ended_is_reported_once_in_the_organisations_repository(world):
    """With nexus.report_issue, the first event after a sprint's end opens "Nexus sprint N" in the
    organisation's config repository (after the first backfill); later events leave it alone."""
    world.set_org_config(default_config_text()[1].replace("report_issue: false", "report_issue: true"))
    prev, cur, done = seed(world)
    await restart_with_backfill(world)
    assert await world.send("issue_edited", 13) == 202
    await world.settle()
    await backfilled(world)
    assert await world.send("issue_edited", 11) == 202  # the next event, the history complete: the report
    await world.settle()
    reports = report_issues(world, prev.number)
    assert len(reports) == 1, reports
    assert "| **Nexus** | **10** |" in reports[0]
    assert await world.send("issue_edited", 12) == 202
    await world.settle()
    assert len(report_issues(world, prev.number)) == 1


def report_issues(world, number: int) -> list[str]:
    fake, title = world.fake, f"Nexus sprint {number}"
    if world.forge == "github":
        return [i.body for (repo, _), i in fake.issues.items() if repo == "org/.github" and i.title == title]
    repo = fake._repo("org/.github")
    return [i.body for i in repo.items.values() if i.title == title]
