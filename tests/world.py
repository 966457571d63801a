"""A forge-neutral world for end-to-end scenarios: one fake forge and the real bot pointed at it.

Scenarios say what happens ("a PR is opened", "CI reports coverage 91 %", "bob approves") and read
back what the bot published; each forge's world translates that into its own API state and signed
webhooks, sent over HTTP to the bot's endpoint. The same test then runs on GitHub and on Forgejo
(the ``world`` fixture in ``tests/conftest.py`` is parametrised over both; ``@only("github")`` keeps
a test on one forge).

Both worlds have the interface of ``World`` (read it there, with the docstrings):

- state: ``open_pr``, ``head``, ``push``, ``close``, ``set_labels``, ``ci``, ``review``,
  ``dismiss_review``, ``set_repo_file``, ``team``, ``permission``, ``open_issue``, ``edit_issue``,
  ``comment``, ``cross_reference``, ``depend`` / ``undepend`` (dependencies the forge records);
- events: ``delivery(what, number)`` builds the signed delivery the forge would send, ``send`` posts
  it, ``settle()`` waits until the bot has done everything it accepted; ``supports(what)`` says
  whether the forge has that event at all (``EVENTS`` lists them and what each forge sends);
- what the bot published: ``report``, ``published``, ``state``, ``item``, ``labels``,
  ``issue_labels``, ``repo_label``, ``comments``, ``bot_comments``, ``reactions``,
  ``requested_teams``;
- what the bot asked of the forge: ``api_writes``, ``writes_to``, ``verdict_writes``,
  ``membership_requests``; and ``outcome(delivery_id)`` from the bot's queue.

Forge-only readers: ``GitHubWorld.check_run``; ``ForgejoWorld.dod_status`` and ``sticky_comment``.

Every item lives in ``REPO`` unless a ``repo=`` keyword names another (``OTHER_REPO`` is there for
cross-repository links). The organisation's teams from ``config/dod.yml`` (and the waiver teams)
exist on the fake from the start, with no members: ``team(slug, members)`` fills one in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

from bot.config import default_config_text, load_config
from bot.forges.forgejo import STICKY_MARKER
from bot.markers import read_verdict

from .harness import RunningBot, settings_for

ORG = "org"
REPO = "org/app"
OTHER_REPO = "org/infra"  # a second repository of the organisation, for cross-repository links
ORG_CONFIG_REPO = "org/.github"  # where the organisation keeps its nexus.yml

_ORG_CONFIG = load_config(default_config_text())

# The events ``send`` knows, in the bot's words, and how each forge delivers them.
EVENTS = {
    # pull requests
    "opened": "pull_request opened | pull_request opened",
    "synchronize": "pull_request synchronize | pull_request_sync synchronized",
    "reopened": "pull_request reopened | pull_request reopened",
    "closed": "pull_request closed | pull_request closed (close the PR first: ``world.close``)",
    "edited": "pull_request edited | pull_request edited",
    "labeled": "pull_request labeled | pull_request_label label_updated",
    "unlabeled": "pull_request unlabeled | pull_request_label label_updated",
    "labels_cleared": "- | pull_request_label label_cleared",
    "ready_for_review": "pull_request ready_for_review | -",
    "review_requested": "pull_request review_requested | pull_request_review_request review_requested",
    "review": "pull_request_review submitted | pull_request_review_{approved,rejected,comment} reviewed",
    "review_dismissed": "pull_request_review dismissed | -",
    "ci_completed": "check_suite completed | - (Forgejo has no event for it: see ForgejoWorld.delivery)",
    "rerun": "check_run rerequested | -",
    # issues and comments
    "issue_opened": "issues opened | issues opened",
    "issue_edited": "issues edited | issues edited",
    "issue_labeled": "issues labeled | issue_label label_updated",
    "issue_unlabeled": "issues unlabeled | issue_label label_updated",
    "issue_reopened": "issues reopened | issues reopened",
    "comment": "issue_comment created | issue_comment / pull_request_comment created",
    # links the forge records (``other=(repo, number)``: the other side of the link)
    "blocked_by_added": "issue_dependencies blocked_by_added | - (Forgejo sends no event for dependencies)",
    "blocked_by_removed": "issue_dependencies blocked_by_removed | -",
    "blocking_added": "issue_dependencies blocking_added | -",
    "sub_issue_added": "sub_issues sub_issue_added | -",
    # repositories
    "push": "push | push (paths=[...] changed, ref= default refs/heads/main)",
    "merge_group": "merge_group checks_requested (sha= the group's commit) | -",
}


def only(*forges: str):
    """Run a test that uses the ``world`` fixture on these forges only, e.g. ``@only("github")``."""
    return pytest.mark.parametrize("world", forges, indirect=True)


class NotOnThisForge(LookupError):
    """The forge has no such event (``World.supports`` says which it has)."""


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made to the fake forge (paths relative to the API root)."""

    method: str
    path: str
    body: Any


@dataclass(frozen=True)
class Published:
    """What the bot published for a pull request's head, as a person sees it.

    GitHub: the "Nexus DoD" check run (title, summary). Forgejo: the ``nexus/dod`` commit status
    (its description is the title) and the one sticky comment (the summary)."""

    state: str  # success | failure | pending
    title: str
    summary: str
    verdict: dict | None  # the machine-readable verdict at the end of the summary


@dataclass(frozen=True)
class Check:
    """A check other than the DoD verdict, as a person sees it: GitHub's check run (its annotations),
    Forgejo's commit status and sticky comment (no annotations: the comment lists them)."""

    state: str  # success | failure | neutral (Forgejo: warning reads as neutral)
    title: str
    summary: str
    annotations: list[dict]  # GitHub: {path, start_line, annotation_level, message, ...}


class World:
    """The interface both forges' worlds implement; the subclasses hold everything forge-specific."""

    forge = ""
    path = ""  # the bot's webhook endpoint
    instance = ""  # the bot's name for the forge instance (its queue key)
    signature_headers: tuple[str, ...] = ()  # the headers the bot checks the signature in
    events: frozenset[str] = frozenset()  # what ``send`` can deliver on this forge
    announces_ci_completion = True  # whether the forge sends an event when CI finishes

    def __init__(self, fake, tmp_path, **settings):
        """``settings``: environment variables for the bot over ``harness.settings_for``'s."""
        self.fake = fake
        self.tmp_path = tmp_path
        self.settings = settings
        self.bot: RunningBot | None = None
        self._pushes: dict[tuple[str, int], int] = {}
        for slug in _org_team_slugs():  # the organisation as configured exists on the forge
            self.team(slug, [])

    async def start(self, port: int = 0) -> "World":
        """The bot, on ``port`` (0: any free one)."""
        self.bot = await RunningBot(self._settings(), port=port).start()
        return self

    async def stop(self) -> None:
        if self.bot:
            await self.bot.stop()

    def _settings(self):
        return settings_for(self.tmp_path, **{self.forge: self.fake}, **self.settings)

    @property
    def bot_login(self) -> str:
        """The bot's login on the forge, as its comments and events show it."""
        raise NotImplementedError

    # ---- state: pull requests ----------------------------------------------------------------

    def open_pr(self, number: int, *, files, body: str = "", labels=(), author: str = "alice",
                sha: str | None = None, title: str = "Approval e-mail", repo: str = REPO) -> None:
        """A pull request from ``author`` into ``main`` changing ``files`` (paths, or (path, status)).
        Send "opened" to tell the bot."""
        raise NotImplementedError

    def head(self, number: int, *, repo: str = REPO) -> str:
        """The PR's head commit."""
        raise NotImplementedError

    def push(self, number: int, files, sha: str | None = None, *, repo: str = REPO) -> str:
        """A new head commit now changing ``files``; its sha. Send "synchronize" to tell the bot."""
        raise NotImplementedError

    def close(self, number: int, *, merged: bool = False, repo: str = REPO, at: str | None = None) -> None:
        """Close a PR (merged or not) or an issue (as completed), now or ``at`` (ISO 8601 UTC)."""
        raise NotImplementedError

    def set_times(self, number: int, *, created: str | None = None, updated: str | None = None,
                  repo: str = REPO) -> None:
        """Move an item in time (ISO 8601 UTC): a history seeded in the past."""
        raise NotImplementedError

    def retarget(self, number: int, base: str, *, repo: str = REPO) -> str:
        """Change the PR's base branch; the base it had. Send "edited" with ``changes=retargeted(old)``."""
        raise NotImplementedError

    def retargeted(self, old_base: str) -> dict:
        """The ``changes`` of the "edited" delivery a forge sends when a PR's base changes."""
        raise NotImplementedError

    def set_labels(self, number: int, labels, *, repo: str = REPO) -> None:
        """Replace the labels on a PR or issue, as a person would (labels new to the repository are
        created). Send "labeled" / "issue_labeled" to tell the bot."""
        raise NotImplementedError

    def ci(self, sha: str, name: str, state: str = "success", text: str = "", *, repo: str = REPO):
        """A CI job's result on a commit: a check run on GitHub (``text`` its summary), a commit status
        on Forgejo (``text`` its description). ``state``: success | failure | running | pending, or
        the forge's own words (GitHub: neutral, cancelled, …; Forgejo: error, warning). A newer
        result for the same ``name`` replaces the older one."""
        raise NotImplementedError

    def review(self, number: int, user: str, state: str, *, repo: str = REPO) -> int:
        """A review by ``user`` on the PR's head: APPROVED | CHANGES_REQUESTED | COMMENTED; its id.
        Send "review" to tell the bot."""
        raise NotImplementedError

    def dismiss_review(self, number: int, review_id: int, *, repo: str = REPO) -> None:
        """A maintainer dismisses a review. GitHub announces it ("review_dismissed"); Forgejo sends
        nothing, so the bot sees it at the next event on the PR."""
        raise NotImplementedError

    def set_repo_file(self, path: str, text: str, ref: str = "main", *, repo: str = REPO) -> None:
        """A file on a branch, e.g. ``.github/nexus.yml`` on ``main`` (read by both forges' bots)."""
        raise NotImplementedError

    def set_org_config(self, text: str) -> None:
        """The organisation's config: ``nexus.yml`` on the default branch of ``org/.github``. Send
        "push" (``repo=ORG_CONFIG_REPO, paths=["nexus.yml"]``) to tell the bot it changed."""
        self.set_repo_file("nexus.yml", text, repo=ORG_CONFIG_REPO)

    # ---- state: people -------------------------------------------------------------------------

    def team(self, slug: str, members) -> None:
        """An organisation team and its members: the GitHub team slug, the Forgejo team name."""
        raise NotImplementedError

    def permission(self, user: str, perm: str, *, repo: str = REPO) -> None:
        """``user``'s permission on the repository: admin | write | read | none (Forgejo also: owner).
        Unknown users read as none."""
        raise NotImplementedError

    # ---- state: issues, comments, links ----------------------------------------------------------

    def open_issue(self, number: int, title: str = "An issue", body: str = "", labels=(), author: str = "alice",
                   *, repo: str = REPO) -> None:
        """An issue (it shares its numbering with pull requests). Send "issue_opened" to tell the bot."""
        raise NotImplementedError

    def edit_issue(self, number: int, title: str | None = None, body: str | None = None, *,
                   repo: str = REPO) -> None:
        """Change an issue's (or a PR's) title or body. Send "issue_edited" (or "edited") to tell the bot."""
        raise NotImplementedError

    def comment(self, number: int, user: str, body: str, *, repo: str = REPO) -> int:
        """A comment by ``user`` on a PR or issue; its id. Send "comment" (``comment_id=``) to tell the bot."""
        raise NotImplementedError

    def edit_comment(self, comment_id: int, body: str) -> None:
        """Anyone with write access may edit any comment, the bot's own included."""
        raise NotImplementedError

    def cross_reference(self, number: int, from_repo: str, from_number: int, *, repo: str = REPO) -> None:
        """``from_repo#from_number`` (which must exist) mentions ``repo#number``: an event in the
        timeline of ``repo#number`` (GitHub "cross-referenced", Forgejo ``issue_ref``/``pull_ref``)."""
        raise NotImplementedError

    def depend(self, number: int, on: int, *, repo: str = REPO, on_repo: str = REPO) -> None:
        """The forge records that ``repo#number`` depends on (is blocked by) ``on_repo#on``."""
        self.fake.add_dependency(repo, number, on_repo, on)

    def undepend(self, number: int, on: int, *, repo: str = REPO, on_repo: str = REPO) -> None:
        self.fake.remove_dependency(repo, number, on_repo, on)

    def native_dependencies(self, number: int, *, repo: str = REPO) -> set[int]:
        """The numbers of the items of ``repo`` the forge records ``repo#number`` as depending on."""
        raise NotImplementedError

    # ---- events ------------------------------------------------------------------------------

    def supports(self, what: str) -> bool:
        """Whether this forge has the event ``what`` (a key of ``EVENTS``)."""
        return what in self.events

    def delivery(self, what: str, number: int | None = None, *, repo: str = REPO, **kw) -> tuple[dict, bytes]:
        """(headers, body) of the signed delivery the forge sends when ``what`` (a key of ``EVENTS``)
        has happened; raises ``NotOnThisForge`` for an event the forge does not have. ``kw``:
        ``sender`` (default: who did it), ``comment_id`` (default: the latest comment), ``review_id``
        (default: the latest review), ``label`` (GitHub's labeled/unlabeled; Forgejo's label events
        name none), ``flavour="gitea"`` (Forgejo: Gitea's headers only), and the fake's overrides."""
        if what not in self.events:
            raise NotOnThisForge(f"{self.forge} has no {what!r} event")
        return self._delivery(what, number, repo, **kw)

    def _delivery(self, what: str, number: int | None, repo: str, **kw) -> tuple[dict, bytes]:
        raise NotImplementedError

    async def send(self, what: str, number: int | None = None, **kw) -> int:
        """Deliver ``what`` to the bot's endpoint (see ``delivery``); the HTTP status it answered."""
        status, _ = await self.bot.deliver(self.delivery(what, number, **kw), self.path)
        return status

    def signed(self, event: str, body: bytes, delivery: str = "d-1", **headers: str) -> tuple[dict, bytes]:
        """A delivery of an arbitrary ``body`` signed as this forge signs, its event header ``event``;
        ``headers`` are added or replace the defaults. For malformed-input tests."""
        raise NotImplementedError

    async def settle(self) -> None:
        """Wait until the bot has processed everything it accepted (no sleeps in tests)."""
        await self.bot.settle()

    async def outcome(self, delivery_id: str) -> tuple[str, str | None] | None:
        """(state, outcome) of a delivery in the bot's queue, e.g. ("failed", "rejected: …")."""
        return await self.bot.store.outcome(self.forge, self.instance, delivery_id)

    # ---- what the bot published ----------------------------------------------------------------

    def report(self, number: int, *, repo: str = REPO) -> Published | None:
        """The DoD report published for the PR's current head, or None (the check run on GitHub;
        the ``nexus/dod`` status and the sticky comment on Forgejo)."""
        raise NotImplementedError

    def config_check(self, number: int, *, repo: str = REPO) -> Check | None:
        """The "Nexus config" check of a PR's head (GitHub check run; Forgejo ``nexus/config`` status
        and its sticky comment), or None."""
        raise NotImplementedError

    def published(self, number: int, *, repo: str = REPO) -> dict | None:
        """The machine-readable verdict the bot published for the PR's head, or None."""
        report = self.report(number, repo=repo)
        return report.verdict if report else None

    def state(self, number: int, *, repo: str = REPO) -> str | None:
        """success | failure | pending, as a person sees it on the forge; None before any verdict."""
        report = self.report(number, repo=repo)
        return report.state if report else None

    def item(self, number: int, item_id: str, *, repo: str = REPO) -> dict:
        """One item of the published verdict: {"id", "state", "reason", "required"}."""
        return next(i for i in self.published(number, repo=repo)["items"] if i["id"] == item_id)

    def labels(self, number: int, *, repo: str = REPO) -> set[str]:
        """The labels on a pull request or issue."""
        raise NotImplementedError

    def issue_labels(self, number: int, *, repo: str = REPO) -> set[str]:
        """The labels on an issue (the same as ``labels``: issues and PRs share numbers)."""
        return self.labels(number, repo=repo)

    def repo_label(self, name: str, *, repo: str = REPO) -> tuple[str, str] | None:
        """A label of the repository as the forge shows it: (colour without "#", description), or
        None when the repository has no such label."""
        raise NotImplementedError

    def comments(self, number: int, *, repo: str = REPO) -> list[tuple[str, str]]:
        """(author, body) of every comment on a PR or issue, oldest first."""
        raise NotImplementedError

    def bot_comments(self, number: int, *, repo: str = REPO) -> list[str]:
        """The bodies of the bot's comments on a PR or issue, oldest first. On Forgejo the DoD's
        sticky comment is one of them; on GitHub the DoD is a check run, not a comment."""
        return [body for user, body in self.comments(number, repo=repo) if user == self.bot_login]

    def reactions(self, comment_id: int) -> list[tuple[str, str]]:
        """(user, content) of the reactions on a comment, e.g. [(world.bot_login, "eyes")]."""
        raise NotImplementedError

    def requested_teams(self, number: int, *, repo: str = REPO) -> set[str]:
        """The teams asked to review a PR (GitHub team slugs, Forgejo team names)."""
        raise NotImplementedError

    # ---- what the bot asked of the forge -------------------------------------------------------

    def api_writes(self) -> list[ApiCall]:
        """Every POST/PATCH/PUT/DELETE the bot sent, in order (GitHub App token exchanges left out)."""
        raise NotImplementedError

    def writes_to(self, path_regex: str) -> list[ApiCall]:
        """The writes whose path matches ``path_regex`` (``re.search``), e.g. ``writes_to(r"/labels")``."""
        return [call for call in self.api_writes() if re.search(path_regex, call.path)]

    def verdict_writes(self) -> list[ApiCall]:
        """The writes that published a verdict: check runs created or updated on GitHub, commit
        statuses posted on Forgejo (the sticky comment is not counted)."""
        raise NotImplementedError

    def membership_requests(self) -> int:
        """How many team-member listings the bot asked the forge for."""
        raise NotImplementedError

    def bot_comment_ids(self, number: int, *, repo: str = REPO) -> list[int]:
        """The ids of the bot's comments on a PR or issue, oldest first (an edit keeps the id)."""
        raise NotImplementedError


class GitHubWorld(World):
    """The bot as a GitHub App, against ``FakeGitHub``."""

    forge = "github"
    path = "/webhooks/github"
    instance = "github"
    signature_headers = ("X-Hub-Signature-256",)
    events = frozenset(EVENTS) - {"labels_cleared"}
    announces_ci_completion = True

    @property
    def bot_login(self) -> str:
        return self.fake.bot_login

    # ---- state -------------------------------------------------------------------------------

    def open_pr(self, number, *, files, body="", labels=(), author="alice", sha=None, title="Approval e-mail",
                repo=REPO):
        self.fake.add_pr(repo, number, title=title, body=body, author=author, files=list(files),
                         labels=list(labels), head_sha=sha or _sha(f"{repo}#{number}-1"))

    def head(self, number, *, repo=REPO) -> str:
        return self.fake._pull(repo, number).head_sha

    def push(self, number, files, sha=None, *, repo=REPO) -> str:
        sha = sha or _sha(f"{repo}#{number}-{len(self.fake._pull(repo, number).shas) + 1}")
        self.fake.push(repo, number, sha, files=list(files))
        return sha

    def close(self, number, *, merged=False, repo=REPO, at=None):
        self.fake.close(repo, number, merged=merged, at=at)

    def set_times(self, number, *, created=None, updated=None, repo=REPO):
        self.fake.set_times(repo, number, created=created, updated=updated)

    def retarget(self, number, base, *, repo=REPO) -> str:
        pull = self.fake._pull(repo, number)
        old, pull.base_ref = pull.base_ref, base
        return old

    def retargeted(self, old_base):
        return {"base": {"ref": {"from": old_base}, "sha": {"from": _sha(old_base)}}}

    def set_labels(self, number, labels, *, repo=REPO):
        self.fake.set_labels(repo, number, list(labels))

    def ci(self, sha, name, state="success", text="", *, repo=REPO):
        """A check run: running (in progress), pending (queued), or completed with ``state`` as its
        conclusion; ``text`` is its summary."""
        if state in ("running", "pending"):
            status = "in_progress" if state == "running" else "queued"
            return self.fake.add_check_run(repo, sha, name, status=status, conclusion=None, summary=text)
        return self.fake.add_check_run(repo, sha, name, conclusion=state, summary=text)

    def review(self, number, user, state, *, repo=REPO) -> int:
        return self.fake.add_review(repo, number, user, state)

    def dismiss_review(self, number, review_id, *, repo=REPO):
        self.fake.dismiss_review(repo, number, review_id)

    def set_repo_file(self, path, text, ref="main", *, repo=REPO):
        self.fake.set_file(repo, ref, path, text)

    def team(self, slug, members):
        self.fake.set_team(ORG, slug, list(members))

    def permission(self, user, perm, *, repo=REPO):
        self.fake.set_permission(repo, user, perm)

    def open_issue(self, number, title="An issue", body="", labels=(), author="alice", *, repo=REPO):
        self.fake.add_issue(repo, number, title=title, body=body, author=author, labels=list(labels))

    def edit_issue(self, number, title=None, body=None, *, repo=REPO):
        issue = self.fake.issues[(repo, number)]
        issue.title = issue.title if title is None else title
        issue.body = issue.body if body is None else body

    def comment(self, number, user, body, *, repo=REPO) -> int:
        return self.fake.add_comment(repo, number, user, body)

    def edit_comment(self, comment_id, body):
        self.fake.comments[comment_id]["body"] = body

    def cross_reference(self, number, from_repo, from_number, *, repo=REPO):
        self.fake.add_cross_reference(repo, number, from_repo, from_number)

    def native_dependencies(self, number, *, repo=REPO):
        return {n for r, n in self.fake.blocked_by.get((repo, number), []) if r == repo}

    # ---- events ------------------------------------------------------------------------------

    def _delivery(self, what, number, repo, **kw):
        if kw.get("sender") == self.bot_login:
            kw.setdefault("sender_type", "Bot")
        if what in ("opened", "synchronize", "reopened", "closed", "edited", "labeled", "unlabeled",
                    "ready_for_review", "review_requested"):
            return self.fake.webhook("pull_request", what, repo, number, **kw)
        if what == "ci_completed":  # the check suite of the PR's head completing
            return self.fake.webhook("check_suite", "completed", repo, number, **kw)
        if what == "review":
            return self.fake.webhook("pull_request_review", "submitted", repo, number, **kw)
        if what == "review_dismissed":
            return self.fake.webhook("pull_request_review", "dismissed", repo, number, **kw)
        if what == "rerun":  # someone presses "Re-run" on the bot's check run
            run = self.check_run(number, repo=repo)
            return self.fake.webhook("check_run", "rerequested", repo, number, check_run_id=run["id"], **kw)
        if what.startswith("issue_"):
            return self.fake.webhook("issues", what.removeprefix("issue_"), repo, number, **kw)
        if what.startswith(("blocked_by_", "blocking_")):
            return self.fake.webhook("issue_dependencies", what, repo, number, **kw)
        if what.startswith(("sub_issue_", "parent_issue_")):
            return self.fake.webhook("sub_issues", what, repo, number, **kw)
        if what == "comment":
            return self.fake.webhook("issue_comment", "created", repo, number, **kw)
        if what == "push":
            return self.fake.webhook("push", None, repo, **kw)
        if what == "merge_group":
            return self.fake.webhook("merge_group", "checks_requested", repo, number, **kw)
        raise NotOnThisForge(what)

    def signed(self, event, body, delivery="d-1", **headers):
        signature = "sha256=" + hmac.new(self.fake.webhook_secret, body, hashlib.sha256).hexdigest()
        base = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature,
                "Content-Type": "application/json"}
        return {**base, **headers}, body

    # ---- what the bot published ----------------------------------------------------------------

    def check_run(self, number, *, repo=REPO) -> dict | None:
        """The bot's one "Nexus DoD" check run on the PR's head (GitHub only)."""
        runs = self.fake.check_runs_for(repo, self.head(number, repo=repo), "Nexus DoD")
        assert len(runs) <= 1, f"{len(runs)} check runs for one head sha"
        return runs[0] if runs else None

    def report(self, number, *, repo=REPO):
        run = self.check_run(number, repo=repo)
        if run is None:
            return None
        state = run["conclusion"] if run["status"] == "completed" else "pending"
        summary = run["output"]["summary"] or ""
        return Published(state, run["output"]["title"] or "", summary, read_verdict(summary))

    def config_check(self, number, *, repo=REPO):
        runs = self.fake.check_runs_for(repo, self.head(number, repo=repo), "Nexus config")
        assert len(runs) <= 1, f"{len(runs)} config check runs for one head sha"
        if not runs:
            return None
        output = runs[0]["output"]
        return Check(runs[0]["conclusion"], output["title"], output["summary"], list(output.get("annotations") or ()))

    def labels(self, number, *, repo=REPO):
        return set(self.fake.issues[(repo, number)].labels)

    def repo_label(self, name, *, repo=REPO):
        color = self.fake.labels.get(repo, {}).get(name)
        return None if color is None else (color, self.fake.label_descriptions.get(repo, {}).get(name) or "")

    def comments(self, number, *, repo=REPO):
        return [(c["user"], c["body"]) for c in self.fake.comments_on(repo, number)]

    def reactions(self, comment_id):
        return [(r["user"], r["content"]) for r in self.fake.reactions.get(comment_id, [])]

    def requested_teams(self, number, *, repo=REPO):
        return set(self.fake._pull(repo, number).requested_teams)

    # ---- what the bot asked of the forge -------------------------------------------------------

    def api_writes(self):
        return [ApiCall(r.method, r.path, r.json) for r in self.fake.requests
                if r.method in ("POST", "PATCH", "PUT", "DELETE") and not r.path.endswith("/access_tokens")]

    def verdict_writes(self):
        return self.writes_to(r"/check-runs")

    def membership_requests(self):
        return self.fake.count("GET", r"/orgs/[^/]+/teams/[^/]+/members")

    def bot_comment_ids(self, number, *, repo=REPO):
        return [c["id"] for c in self.fake.comments_on(repo, number) if c["user"] == self.bot_login]


class ForgejoWorld(World):
    """The bot as a Forgejo user with a token, against ``FakeForgejo`` (Forgejo v12, page cap 50).

    What differs from GitHub: CI reports commit statuses (there are no check runs); the verdict is
    the ``nexus/dod`` commit status plus one sticky comment; labels are added by id (created first
    when missing); Forgejo sends no event when CI finishes, when a review is dismissed, or for a
    "re-run" button (it has none), and none of GitHub's "ready_for_review"."""

    forge = "forgejo"
    path = "/webhooks/forgejo"
    instance = "default"
    signature_headers = ("X-Forgejo-Signature", "X-Gitea-Signature")
    events = frozenset(EVENTS) - {"ready_for_review", "review_dismissed", "rerun", "merge_group", "blocked_by_added",
                                  "blocked_by_removed", "blocking_added", "sub_issue_added"}
    announces_ci_completion = False
    status_context = _ORG_CONFIG.reporting.status_context

    _CI_STATES = {"running": "pending", "queued": "pending", "neutral": "warning", "skipped": "warning",
                  "cancelled": "error", "timed_out": "error", "action_required": "failure"}
    _REVIEW_STATES = {"APPROVED": "APPROVED", "CHANGES_REQUESTED": "REQUEST_CHANGES", "COMMENTED": "COMMENT"}
    _REVIEW_EVENTS = {"APPROVED": "pull_request_review_approved", "REQUEST_CHANGES": "pull_request_review_rejected",
                      "COMMENT": "pull_request_review_comment"}
    _SEEN_STATES = {"success": "success", "pending": "pending", "failure": "failure", "error": "failure",
                    "warning": "success"}

    @property
    def bot_login(self) -> str:
        return self.fake.bot

    def _item(self, repo: str, number: int):
        return self.fake._item(repo, number)

    # ---- state -------------------------------------------------------------------------------

    def open_pr(self, number, *, files, body="", labels=(), author="alice", sha=None, title="Approval e-mail",
                repo=REPO):
        self.fake.add_pr(repo, number, title=title, body=body, author=author, files=list(files),
                         labels=list(labels), head_sha=sha or _sha(f"{repo}#{number}-1"))
        self._pushes[(repo, number)] = 1

    def head(self, number, *, repo=REPO) -> str:
        return self._item(repo, number).head_sha

    def push(self, number, files, sha=None, *, repo=REPO) -> str:
        count = self._pushes.get((repo, number), 1) + 1
        self._pushes[(repo, number)] = count
        sha = sha or _sha(f"{repo}#{number}-{count}")
        self.fake.push(repo, number, sha, files=list(files))
        return sha

    def close(self, number, *, merged=False, repo=REPO, at=None):
        item = self._item(repo, number)
        item.state, item.merged = "closed", merged and item.is_pull
        item.closed_at = item.updated_at = at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def set_times(self, number, *, created=None, updated=None, repo=REPO):
        item = self._item(repo, number)
        item.created_at = created or item.created_at
        item.updated_at = updated or item.updated_at

    def retarget(self, number, base, *, repo=REPO) -> str:
        item = self._item(repo, number)
        self.fake._repo(repo).branches.setdefault(base, _sha(f"{repo}:{base}"))
        old, item.base_ref = item.base_ref, base
        return old

    def retargeted(self, old_base):
        return {"ref": {"from": old_base}}  # Forgejo's ChangesPayload: the target branch is "ref"

    def set_labels(self, number, labels, *, repo=REPO):
        r = self.fake._repo(repo)
        self._item(repo, number).label_ids = [self.fake._label_named(r, name) for name in dict.fromkeys(labels)]

    def ci(self, sha, name, state="success", text="", *, repo=REPO):
        """A commit status (context ``name``, description ``text``): success | failure | error |
        warning | pending, or GitHub's words (running → pending, neutral → warning, cancelled → error)."""
        return self.fake.add_status(repo, sha, name, self._CI_STATES.get(state, state), description=text)

    def review(self, number, user, state, *, repo=REPO) -> int:
        return self.fake.add_review(repo, number, user, self._REVIEW_STATES[state.upper()])

    def dismiss_review(self, number, review_id, *, repo=REPO):
        # Forgejo keeps the review, flagged dismissed, and sends no webhook for it
        next(r for r in self._item(repo, number).reviews if r["id"] == review_id)["dismissed"] = True

    def set_repo_file(self, path, text, ref="main", *, repo=REPO):
        self.fake.set_file(repo, ref, path, text)

    def team(self, slug, members):
        self.fake.set_team(ORG, slug, list(members))

    def permission(self, user, perm, *, repo=REPO):
        # Forgejo tells it only to repository admins: the bot user must be one (README)
        self.fake.set_permission(repo, user, perm)

    def open_issue(self, number, title="An issue", body="", labels=(), author="alice", *, repo=REPO):
        self.fake.add_issue(repo, number, title=title, body=body, author=author, labels=list(labels))

    def edit_issue(self, number, title=None, body=None, *, repo=REPO):
        item = self._item(repo, number)
        item.title = item.title if title is None else title
        item.body = item.body if body is None else body

    def comment(self, number, user, body, *, repo=REPO) -> int:
        return self.fake.add_comment(repo, number, user, body)

    def edit_comment(self, comment_id, body):
        self.fake._comments[comment_id]["body"] = body

    def cross_reference(self, number, from_repo, from_number, *, repo=REPO):
        self.fake.add_reference(repo, number, from_repo, from_number)

    def native_dependencies(self, number, *, repo=REPO):
        return {n for r, n in self.fake._item(repo, number).depends_on if r == repo}

    # ---- events ------------------------------------------------------------------------------

    _PR_EVENTS = {
        "opened": ("pull_request", "opened"),
        "reopened": ("pull_request", "reopened"),
        "closed": ("pull_request", "closed"),
        "edited": ("pull_request", "edited"),
        "synchronize": ("pull_request_sync", "synchronized"),
        # Forgejo sends label_updated whenever labels are added or removed, label_cleared when all are
        "labeled": ("pull_request_label", "label_updated"),
        "unlabeled": ("pull_request_label", "label_updated"),
        "labels_cleared": ("pull_request_label", "label_cleared"),
        "review_requested": ("pull_request_review_request", "review_requested"),
        "issue_opened": ("issues", "opened"),
        "issue_edited": ("issues", "edited"),
        "issue_reopened": ("issues", "reopened"),
        "issue_labeled": ("issue_label", "label_updated"),
        "issue_unlabeled": ("issue_label", "label_updated"),
    }

    def _delivery(self, what, number, repo, **kw):
        """Forgejo's deliveries. ``label=`` is accepted for symmetry and dropped: Forgejo's label events
        carry the item's labels, not the one that changed. ``flavour="gitea"`` sends Gitea's headers only.

        "ci_completed": Forgejo (v12) sends nothing when a commit status is set, so the bot cannot
        see CI finish; the verdict catches up at the next event on the pull request. The world
        delivers the event that exists for that: the PR's author asking ``/nexus dod`` in a comment
        (a ``pull_request_comment`` delivery)."""
        kw.pop("label", None)
        if what in self._PR_EVENTS:
            event_type, action = self._PR_EVENTS[what]
            return self.fake.webhook(event_type, action, repo, number, **kw)
        if what == "review":
            reviews = self._item(repo, number).reviews
            review_id = kw.pop("review_id", None)
            review = next(r for r in reviews if r["id"] == review_id) if review_id else reviews[-1]
            return self.fake.webhook(self._REVIEW_EVENTS[review["state"]], "reviewed", repo, number,
                                     **{"sender": review["user"], **kw})
        if what == "ci_completed":
            item = self._item(repo, number)
            kw["comment_id"] = self.comment(number, item.author, f"{_ORG_CONFIG.command_prefix} dod", repo=repo)
            what = "comment"
        if what == "comment":
            kind = "pull_request_comment" if self._item(repo, number).is_pull else "issue_comment"
            return self.fake.webhook(kind, "created", repo, number, **kw)
        if what == "push":
            paths, ref = kw.pop("paths", []), kw.pop("ref", "refs/heads/main")
            after = _sha(f"{repo}:{ref}:{paths}:{len(self.fake.requests)}")
            commit = {"id": after, "message": "Update config", "added": [], "removed": [], "modified": list(paths)}
            self.fake._repo(repo)
            kw.setdefault("sender", "alice")  # a person pushed (the fake's default sender is the bot)
            return self.fake.webhook("push", None, repo, ref=ref, after=after, commits=[commit] if paths else [],
                                     total_commits=1 if paths else 0, head_commit=commit, **kw)
        raise NotOnThisForge(what)

    def signed(self, event, body, delivery="d-1", **headers):
        signature = hmac.new(self.fake.webhook_secret, body, hashlib.sha256).hexdigest()
        base = {"X-Forgejo-Event": event, "X-Forgejo-Event-Type": event, "X-Forgejo-Delivery": delivery,
                "X-Forgejo-Signature": signature, "Content-Type": "application/json"}
        return {**base, **headers}, body

    # ---- what the bot published ----------------------------------------------------------------

    def dod_status(self, number, *, repo=REPO) -> dict | None:
        """The latest ``nexus/dod`` commit status on the PR's head (Forgejo only)."""
        statuses = [s for s in self.fake.statuses_of(repo, self.head(number, repo=repo))
                    if s["context"] == self.status_context]
        assert all(s["creator"] == self.bot_login for s in statuses), statuses
        return statuses[-1] if statuses else None

    def sticky_comment(self, number, *, repo=REPO) -> dict | None:
        """The bot's one comment carrying the DoD summary (Forgejo only)."""
        mine = [c for c in self.fake.comments_of(repo, number)
                if c["user"] == self.bot_login and STICKY_MARKER in c["body"]]
        assert len(mine) <= 1, f"{len(mine)} sticky comments on {repo}#{number}"
        return mine[0] if mine else None

    def report(self, number, *, repo=REPO):
        status = self.dod_status(number, repo=repo)
        if status is None:
            return None
        comment = self.sticky_comment(number, repo=repo)
        summary = comment["body"] if comment else ""
        return Published(self._SEEN_STATES[status["status"]], status["description"], summary, read_verdict(summary))

    def config_check(self, number, *, repo=REPO):
        statuses = [s for s in self.fake.statuses_of(repo, self.head(number, repo=repo)) if s["context"] == "nexus/config"]
        if not statuses:
            return None
        comments = [c for c in self.fake.comments_of(repo, number)
                    if c["user"] == self.bot_login and "<!-- nexus-bot:config -->" in c["body"]]
        assert len(comments) <= 1, f"{len(comments)} config comments on {repo}#{number}"
        state = {"warning": "neutral"}.get(statuses[-1]["status"], statuses[-1]["status"])
        return Check(state, statuses[-1]["description"], comments[0]["body"] if comments else "", [])

    def labels(self, number, *, repo=REPO):
        return set(self.fake.labels_of(repo, number))

    def repo_label(self, name, *, repo=REPO):
        label = self.fake.label(repo, name)
        return None if label is None else (label["color"].lstrip("#"), label["description"] or "")

    def comments(self, number, *, repo=REPO):
        return [(c["user"], c["body"]) for c in self.fake.comments_of(repo, number)]

    def reactions(self, comment_id):
        return self.fake.reactions_of(comment_id)

    def requested_teams(self, number, *, repo=REPO):
        return set(self.fake.requested_teams(repo, number))

    # ---- what the bot asked of the forge -------------------------------------------------------

    def api_writes(self):
        return [ApiCall(r.method, r.path, r.body) for r in self.fake.requests
                if r.method in ("POST", "PATCH", "PUT", "DELETE")]

    def verdict_writes(self):
        return self.writes_to(r"/statuses/")

    def membership_requests(self):
        return self.fake.count("GET", r"/teams/\d+/members")

    def bot_comment_ids(self, number, *, repo=REPO):
        return [c["id"] for c in self.fake.comments_of(repo, number) if c["user"] == self.bot_login]


WORLDS = {"github": GitHubWorld, "forgejo": ForgejoWorld}


def _org_team_slugs() -> list[str]:
    """The forge teams the organisation config names: one per team, and the waiver teams."""
    slugs = [_ORG_CONFIG.team_slug(key) for key in _ORG_CONFIG.teams]
    return list(dict.fromkeys([*slugs, *_ORG_CONFIG.waivers.teams]))


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()

