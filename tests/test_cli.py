"""The command line, run as a user runs it: ``nexus-bot check`` (the dry run) against the fake GitHub
with a token, and ``nexus-bot serve --help``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPO = "org/app"


async def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """The CLI in a child process; the fake forge keeps answering on this test's event loop."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FORGEJO_"))},
             "PYTHONPATH": str(ROOT), **env},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


def pr_missing_its_changelog(fake):
    fake.add_pr(REPO, 3, title="feat: approval", body="", author="alice", files=["docs/guide.md"])
    fake.add_check_run(REPO, fake._pull(REPO, 3).head_sha, "tests", conclusion="success")


async def test_dry_run_prints_the_verdict_and_posts_nothing(fake_github, tmp_path):
    pr_missing_its_changelog(fake_github)
    env = {"GITHUB_TOKEN": fake_github.user_token, "GITHUB_API_URL": fake_github.url}
    result = await run_cli("check", f"{REPO}#3", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{REPO}#3" in result.stdout and "failed" in result.stdout
    assert "changelog" in result.stdout and "Add an entry to CHANGELOG.md" in result.stdout
    assert [r for r in fake_github.requests if r.method != "GET"] == []  # nothing posted
    assert fake_github.user_token not in result.stdout + result.stderr


async def test_dry_run_json_and_a_pull_request_url(fake_github, tmp_path):
    pr_missing_its_changelog(fake_github)
    env = {"GITHUB_TOKEN": fake_github.user_token, "GITHUB_API_URL": fake_github.url}
    result = await run_cli("check", f"https://github.com/{REPO}/pull/3", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["state"] == "failed" and verdict["head_sha"] == fake_github._pull(REPO, 3).head_sha
    assert {"id": "tests", "state": "passed"}.items() <= next(i for i in verdict["items"] if i["id"] == "tests").items()


async def test_dry_run_tries_a_config_before_it_is_rolled_out(fake_github, tmp_path):
    pr_missing_its_changelog(fake_github)
    from bot.config import default_config_text

    _, text = default_config_text()
    trial = tmp_path / "trial.yml"
    trial.write_text(text.replace("    when: {labels_none: [skip-changelog]}\n", "    when: {labels_none: [skip-changelog]}\n    severity: advisory\n", 1))
    env = {"GITHUB_TOKEN": fake_github.user_token, "GITHUB_API_URL": fake_github.url}
    result = await run_cli("check", f"{REPO}#3", "--json", "--config", str(trial), env=env, cwd=tmp_path)
    changelog = next(i for i in json.loads(result.stdout)["items"] if i["id"] == "changelog")
    assert changelog["state"] == "failed" and changelog["required"] is False


async def test_dry_run_says_what_is_missing(tmp_path):
    no_token = await run_cli("check", f"{REPO}#3", env={}, cwd=tmp_path)
    bad_ref = await run_cli("check", "not a pull request", env={"GITHUB_TOKEN": "x"}, cwd=tmp_path)
    assert no_token.returncode == 2 and "GITHUB_TOKEN" in no_token.stderr
    assert bad_ref.returncode == 2 and "OWNER/REPO#N" in bad_ref.stderr


async def test_serve_help_lists_every_setting(tmp_path):
    result = await run_cli("serve", "--help", env={}, cwd=tmp_path)
    for name in ("APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "PORT", "LOG_LEVEL", "GITHUB_API_URL",
                 "FORGEJO_URL", "DATABASE_PATH", "--role"):
        assert name in result.stdout
