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


async def test_dry_run_answers_a_forge_refusal_in_one_line(fake_github, tmp_path):
    env = {"GITHUB_TOKEN": fake_github.user_token, "GITHUB_API_URL": fake_github.url}
    missing = await run_cli("check", f"{REPO}#404", env=env, cwd=tmp_path)
    refused = await run_cli("check", f"{REPO}#3", env={**env, "GITHUB_TOKEN": "wrong"}, cwd=tmp_path)
    unreachable = await run_cli("check", f"{REPO}#3", env={**env, "GITHUB_API_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    for result, words in ((missing, "404"), (refused, "401"), (unreachable, "GitHub")):
        assert result.returncode == 1 and words in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr


async def test_dry_run_on_forgejo_needs_no_webhook_secret(fake_forgejo, tmp_path):
    fake_forgejo.add_pr(REPO, 5, files=["docs/guide.md"])
    env = {"FORGEJO_URL": fake_forgejo.url, "FORGEJO_TOKEN": fake_forgejo.token}
    result = await run_cli("check", f"{REPO}#5", "--forgejo", env=env, cwd=tmp_path)
    assert result.returncode == 0 and "changelog" in result.stdout, result.stderr


async def test_the_env_file_of_the_working_directory_is_read(tmp_path):
    (tmp_path / ".env").write_text("GITHUB_TOKEN=from-dotenv\n")
    result = await run_cli("check", "not a pull request", env={}, cwd=tmp_path)
    assert "GITHUB_TOKEN" not in result.stderr and "OWNER/REPO#N" in result.stderr  # the token was found


async def test_config_check_names_every_error_and_checks_permission_names(tmp_path):
    bad = tmp_path / "nexus.yml"
    bad.write_text("waivers:\n  permissions: [amdin]\nreview:\n  min_approvals: -1\n")
    result = await run_cli("config", "check", str(bad), env={}, cwd=tmp_path)
    assert result.returncode == 1
    assert f"{bad}:2: waivers.permissions.0: Input should be 'admin'" in result.stderr
    assert f"{bad}:4: review.min_approvals:" in result.stderr


async def test_a_wheel_install_runs_config_check_on_its_embedded_config(tmp_path):
    """``pip install .`` (not editable) has no checkout beside it: the config ships in the package."""
    build = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
        "-w", str(tmp_path / "dist"), str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(build.communicate(), 300)
    assert build.returncode == 0, err.decode()[-2000:]
    [wheel] = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"
    import zipfile

    zipfile.ZipFile(wheel).extractall(site)  # what pip puts in site-packages
    repo_file = tmp_path / "repo.yml"
    repo_file.write_text("review:\n  min_approvals: 2\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import bot; from bot.cli import main; "
            "assert bot.__file__.startswith(sys.argv[1]), bot.__file__; sys.exit(main(sys.argv[2:]))")
    run = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, str(site), "config", "check", str(repo_file), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(run.communicate(), 60)
    assert run.returncode == 0 and "repo.yml: ok" in out.decode(), err.decode()


def test_the_readme_settings_table_is_the_settings_own():
    """One source: every setting read from the environment is documented, and the README shows that
    documentation as `nexus-bot settings` prints it."""
    import re

    from bot.service.settings import DOCUMENTED, settings_table

    source = (ROOT / "bot/service/settings.py").read_text()
    read = set(re.findall(r'get\("([A-Z][A-Z0-9_]+)"\)', source))
    documented = {name for name, _ in DOCUMENTED}
    assert read - documented == set(), f"read but not documented: {sorted(read - documented)}"
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- settings: generated by `nexus-bot settings` -->\n", 1)[1].split("<!-- /settings -->")[0]
    assert block == settings_table(), "README's settings table is stale: paste `nexus-bot settings` into it"
