"""The organisation's config in a repository, measured against the fake GitHub:

- ``preview``: API calls (charged and in all) of the config check of a pull request that changes
  ``.github/nexus.yml``, previewed on 20 other open pull requests;
- ``push``: time from a push that changes ``org/.github/nexus.yml`` (the webhook accepted) to the new
  config in force (the next evaluation judges by it), with the default coalescing window.

Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import default_config_text  # noqa: E402
from tests.fakes.github import FakeGitHub  # noqa: E402
from tests.harness import RunningBot, settings_for  # noqa: E402

REPO = "org/app"
ORG = default_config_text()[1]
ADVISORY = ORG.replace("    title: CHANGELOG.md updated\n", "    title: CHANGELOG.md updated\n    severity: advisory\n", 1)


async def preview(others: int = 25, cold: bool = False) -> dict:
    """``cold``: the bot restarts before the config PR (no ETag, no cache: every read is charged)."""
    fake = FakeGitHub()
    await fake.start()
    settings = settings_for(Path(tempfile.mkdtemp()), github=fake, LOG_LEVEL="warn")
    bot = await RunningBot(settings).start()
    fake.set_team("org", "backend", ["bob"])
    fake.set_team("org", "frontend", ["carol"])
    for n in range(1, others + 1):
        files = ["backend/src/a.rs", "frontend/src/b.svelte"] if n % 2 else ["docs/guide.md"]
        fake.add_pr(REPO, n, files=[*files, "CHANGELOG.md"], head_sha=f"{n:040x}")
        assert (await bot.deliver(fake.webhook("pull_request", "opened", REPO, n)))[0] == 202
    await bot.settle()
    if cold:
        await bot.stop()
        bot = await RunningBot(settings).start()
    number = others + 1
    fake.add_pr(REPO, number, files=[".github/nexus.yml"], head_sha="f" * 40)
    fake.set_file(REPO, "f" * 40, ".github/nexus.yml", "items:\n  - id: bdd-tests\n    severity: required\n")
    before_requests, before_charged = len(fake.requests), fake.charged
    assert (await bot.deliver(fake.webhook("pull_request", "opened", REPO, number)))[0] == 202
    await bot.settle()
    requests, charged = len(fake.requests) - before_requests, fake.charged - before_charged
    await bot.stop()
    await fake.stop()
    # the config PR's own DoD evaluation is in these counts: about 7 calls
    return {"previewed": 20, "cold": cold, "requests": requests, "charged": charged}


async def push(rounds: int = 10) -> dict:
    fake = FakeGitHub()
    await fake.start()
    bot = await RunningBot(settings_for(Path(tempfile.mkdtemp()), github=fake, LOG_LEVEL="warn",
                                        COALESCE_SECONDS=2)).start()  # the default window, as in production
    fake.add_pr(REPO, 1, files=["docs/guide.md"], head_sha="1" * 40)
    fake.set_file("org/.github", "main", "nexus.yml", ORG)
    assert (await bot.deliver(fake.webhook("pull_request", "opened", REPO, 1)))[0] == 202
    await bot.settle()
    seconds = []
    for n in range(rounds):
        text = ADVISORY if n % 2 == 0 else ORG
        fake.set_file("org/.github", "main", "nexus.yml", text)
        started = time.perf_counter()
        assert (await bot.deliver(fake.webhook("push", None, "org/.github", paths=["nexus.yml"])))[0] == 202
        want = text is ORG  # is changelog required under the new config?
        while True:
            org = bot.worker.services.reads.orgs.cached("github", "org")
            if org is not None and org.config is not None and \
                    next(i for i in org.config.items if i.id == "changelog").required == want:
                break
            await asyncio.sleep(0.005)
        seconds.append(time.perf_counter() - started)
    await bot.stop()
    await fake.stop()
    return {"rounds": rounds, "median_s": round(statistics.median(seconds), 3), "max_s": round(max(seconds), 3)}


async def main() -> None:
    result = {"preview": await preview(), "preview_cold": await preview(cold=True), "push": await push()}
    q = result["push"]
    for key, when in (("preview", "the other PRs seen before (their reads are 304s)"), ("preview_cold", "after a restart")):
        p = result[key]
        print(f"config preview on {p['previewed']} open PRs, {when}: {p['requests']} requests, {p['charged']} charged "
              f"(including the config PR's own DoD evaluation)")
    print(f"push to org/.github → new config in force: median {q['median_s']} s, max {q['max_s']} s "
          f"over {q['rounds']} pushes (coalescing window 2 s)")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
