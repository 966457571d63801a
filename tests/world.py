"""A forge-neutral world for end-to-end scenarios: one fake forge and the bot pointed at it.

Scenarios say what happens ("a PR is opened", "CI reports coverage 91 %", "bob approves") and read
back what the bot published; each forge's world translates that into its own webhooks and API
state. The same test then runs on GitHub and on Forgejo.
"""

from __future__ import annotations

import hashlib

from bot.report import read_verdict

from .harness import RunningBot, settings_for

REPO = "org/app"


class GitHubWorld:
    forge = "github"
    path = "/webhooks/github"

    def __init__(self, fake, tmp_path, **settings):
        self.fake = fake
        self.tmp_path = tmp_path
        self.settings = settings
        self.bot: RunningBot | None = None

    async def start(self) -> "GitHubWorld":
        self.bot = await RunningBot(settings_for(self.tmp_path, github=self.fake, **self.settings)).start()
        return self

    async def stop(self) -> None:
        if self.bot:
            await self.bot.stop()

    @property
    def bot_login(self) -> str:
        return self.fake.bot_login

    # ---- state -------------------------------------------------------------------------------

    def open_pr(self, number, *, files, body="", labels=(), author="alice", sha=None):
        self.fake.add_pr(REPO, number, title="Approval e-mail", body=body, author=author, files=list(files),
                         labels=list(labels), head_sha=sha or _sha(f"{number}-1"))

    def head(self, number) -> str:
        return self.fake._pull(REPO, number).head_sha

    def push(self, number, files, sha=None) -> str:
        sha = sha or _sha(f"{number}-{len(self.fake._pull(REPO, number).shas) + 1}")
        self.fake.push(REPO, number, sha, files=list(files))
        return sha

    def ci(self, sha, name, state="success", text=""):
        """A CI signal on a commit: a check run on GitHub."""
        if state == "running":
            return self.fake.add_check_run(REPO, sha, name, status="in_progress", conclusion=None, summary=text)
        return self.fake.add_check_run(REPO, sha, name, conclusion=state, summary=text)

    def review(self, number, user, state):
        return self.fake.add_review(REPO, number, user, state)

    def set_repo_file(self, path, text, ref="main"):
        self.fake.set_file(REPO, ref, path, text)

    def team(self, slug, members):
        self.fake.set_team("org", slug, members)

    # ---- events ------------------------------------------------------------------------------

    def delivery(self, what: str, number: int | None = None, **kw):
        pr_events = {"opened", "synchronize", "reopened", "edited", "labeled", "unlabeled", "ready_for_review"}
        if what in pr_events:
            return self.fake.webhook("pull_request", what, REPO, number, **kw)
        if what == "ci_completed":  # a check suite completing for the PR's head
            return self.fake.webhook("check_suite", "completed", REPO, number, **kw)
        if what == "review":
            return self.fake.webhook("pull_request_review", "submitted", REPO, number, **kw)
        if what == "rerun":
            run = self.check_run(number)
            return self.fake.webhook("check_run", "rerequested", REPO, number, check_run_id=run["id"], **kw)
        raise ValueError(what)

    async def send(self, what: str, number: int | None = None, **kw) -> int:
        status, _ = await self.bot.deliver(self.delivery(what, number, **kw), self.path)
        return status

    async def settle(self):
        await self.bot.settle()

    # ---- what the bot published ----------------------------------------------------------------

    def check_run(self, number):
        runs = self.fake.check_runs_for(REPO, self.head(number), "Nexus DoD")
        assert len(runs) <= 1, f"{len(runs)} check runs for one head sha"
        return runs[0] if runs else None

    def published(self, number) -> dict | None:
        """The machine-readable verdict the bot published for the PR's head, or None."""
        run = self.check_run(number)
        return read_verdict(run["output"]["summary"]) if run else None

    def state(self, number) -> str | None:
        """success | failure | pending, as a person sees it on the forge."""
        run = self.check_run(number)
        if run is None:
            return None
        return run["conclusion"] if run["status"] == "completed" else "pending"

    def item(self, number, item_id) -> dict:
        return next(i for i in self.published(number)["items"] if i["id"] == item_id)

    def labels(self, number) -> set[str]:
        return set(self.fake.issues[(REPO, number)].labels)

    def api_writes(self) -> list:
        return [r for r in self.fake.requests if r.method in ("POST", "PATCH", "PUT", "DELETE")
                and not r.path.endswith("/access_tokens")]


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()
