"""Every GitHub API call the bot makes, as the ``Forge`` of one installation (or one token); the
HTTP side (auth, retries, conditional reads) is ``github_http.py``."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta, timezone
import logging
from functools import lru_cache
from typing import Any, Awaitable, Iterable, Mapping
from urllib.parse import quote

from codeowners import CodeOwners as GitignoreCodeOwners
from githubkit import AppAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.exception import GitHubException, RequestFailed

from cachetools import LRUCache

from .. import markers
from ..model import (CheckReport, CheckResult, ChangedFile, CodeOwners, Comment, Issue, LabelStyle, NativeLink,
                     PullRequest, Report, State)
from .base import ForgeError
from . import github_payloads as payload
from .github_http import API_URL, API_VERSION, Calls, ConditionalReads, Pool, RetryPolicy, client_settings, forge_error
from .traffic import NoTraffic, SharedReads, Traffic

log = logging.getLogger("nexus.github")

NAME = "github"
MAX_TEXT = 65535  # GitHub's limit on a check run summary (and, +1, on a comment body)
SEARCH_LIMIT = 1000  # GitHub's search gives at most this many results of one query
FILES_LIMIT = 3000  # GitHub lists at most this many files of a pull request
MAX_ANNOTATIONS = 50  # GitHub's limit on the annotations of one check run request
CUT_NOTE = "\n\n*(cut: the full report is longer than GitHub allows)*\n\n"
FILE_STATUSES = {"copied": "added", "changed": "modified", "unchanged": "modified"}
STICKY_MARKER = markers.STICKY_DOD


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=64)
def read_codeowners(text: str) -> CodeOwners | None:
    """GitHub's CODEOWNERS syntax: gitignore patterns, the last matching line wins."""
    return GitignoreCodeOwners(text) if text.strip() else None


class GitHubApp:
    """A GitHub App: one ``GitHubForge`` per installation, all sharing one connection pool."""

    def __init__(
        self,
        app_id: int,
        private_key: str,
        api_url: str = API_URL,
        *,
        app_slug: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        traffic: Traffic = NoTraffic(),
    ):
        self.app_id = app_id
        self.app_slug = app_slug
        self.calls = Calls()  # the app's own calls (GET /app)
        self._auth = AppAuthStrategy(app_id, private_key)
        self._settings = client_settings(api_url, timeout, retry, traffic)
        self._github = self._settings.client(self._auth, self.calls)
        self._forges: LRUCache[int, GitHubForge] = LRUCache(maxsize=1024)

    def forge_for(self, installation_id: int) -> GitHubForge:
        forge = self._forges.get(installation_id)
        if forge is None:
            calls = Calls()
            github = self._settings.client(self._auth.as_installation(installation_id), calls, str(installation_id))
            forge = self._forges[installation_id] = GitHubForge(github, calls, app=self, shared=self._settings.traffic,
                                                                account=str(installation_id))
        return forge

    async def slug(self) -> str:
        if self.app_slug is None:
            try:
                response = await self._github.arequest("GET", "/app", headers={"X-GitHub-Api-Version": API_VERSION})
            except GitHubException as e:
                raise forge_error(e) from e
            self.app_slug = response.json()["slug"]
        return self.app_slug

    async def verify(self) -> str:
        """Ask GitHub who the App is (``GET /app``, signed with the App's key): its slug."""
        try:
            response = await self._github.arequest("GET", "/app", headers={"X-GitHub-Api-Version": API_VERSION})
        except GitHubException as e:
            raise forge_error(e) from e
        self.app_slug = self.app_slug or response.json()["slug"]
        return response.json()["slug"]

    async def installation_of(self, owner: str) -> int | None:
        """The App's installation on an organisation or a user account; None when it is not installed."""
        for path in (f"/orgs/{owner}/installation", f"/users/{owner}/installation"):
            try:
                response = await self._github.arequest("GET", path, headers={"X-GitHub-Api-Version": API_VERSION})
            except GitHubException as e:
                error = forge_error(e)
                if error.status == 404:
                    continue
                raise error from e
            return response.json()["id"]
        return None

    async def bot_login(self) -> str:
        """The login the app writes as: ``<slug>[bot]``."""
        return f"{await self.slug()}[bot]"

    async def aclose(self) -> None:
        await self._settings.pool.shutdown()


class GitHubForge(ConditionalReads):
    """The ``Forge`` for one GitHub installation (or one token)."""

    name = NAME
    config_paths = (".github/nexus.yml",)
    codeowners_paths = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's order
    announces_ci_completion = True  # check_suite, check_run and status webhooks
    needs_sticky_comment = False  # a check run holds the whole report

    def __init__(
        self,
        github: GitHub,
        calls: Calls,
        *,
        app: GitHubApp | None = None,
        bot_login: str | None = None,
        pool: Pool | None = None,
        shared: SharedReads = NoTraffic(),
        account: str = "",
    ):
        super().__init__(github, calls, shared, account)
        self._bot_login = bot_login
        self._app = app
        self._pool = pool  # set when this forge owns its connection pool (token mode)
        self._labels: LRUCache[tuple[str, str], bool] = LRUCache(maxsize=8192)  # (repo, name) known to exist

    def read_codeowners(self, text: str) -> CodeOwners | None:
        return read_codeowners(text)

    @classmethod
    def from_token(
        cls,
        token: str,
        api_url: str = API_URL,
        *,
        bot_login: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        traffic: Traffic = NoTraffic(),
    ) -> GitHubForge:
        """A forge acting with a personal access token or ``GITHUB_TOKEN`` (``bot_login``: the
        login it writes as; asked of ``GET /user`` when needed and not given)."""
        settings = client_settings(api_url, timeout, retry, traffic)
        calls = Calls()
        return cls(settings.client(TokenAuthStrategy(token), calls, "token"), calls, bot_login=bot_login, pool=settings.pool)

    @property
    def bot_login(self) -> str | None:
        """The login this forge writes as, once known (see ``GitHubApp.bot_login``)."""
        if self._app:
            return f"{self._app.app_slug}[bot]" if self._app.app_slug else None
        return self._bot_login

    async def aclose(self) -> None:
        if self._pool:
            await self._pool.shutdown()

    async def login(self) -> str:
        """The login this forge writes as (asked of GitHub the first time)."""
        return (await self._identity())[0]

    async def _identity(self) -> tuple[str, str | None]:
        """(login this forge writes as, slug of the app its check runs belong to)."""
        if self._app:
            slug = await self._app.slug()
            return f"{slug}[bot]", slug
        if self._bot_login is None:
            data, _ = await self._get("/user")
            self._bot_login = data["login"]
        return self._bot_login, None

    # -- reads --------------------------------------------------------------------------------

    async def pull_request(self, repo: str, number: int) -> PullRequest:
        pr, _ = await self._get(f"/repos/{repo}/pulls/{number}")
        self._labels_seen(repo, (label["name"] for label in pr.get("labels") or ()))
        sha = pr["head"]["sha"]
        files, reviews, runs, status, comments = await _gather(
            self._pages(f"/repos/{repo}/pulls/{number}/files", {"per_page": 100}, limit=FILES_LIMIT),
            self._pages(f"/repos/{repo}/pulls/{number}/reviews", {"per_page": 100}),
            self._pages(f"/repos/{repo}/commits/{sha}/check-runs", {"per_page": 100}, key="check_runs"),
            self._pages(f"/repos/{repo}/commits/{sha}/status", {"per_page": 100}, key="statuses"),
            self._comments(repo, number),
        )
        return PullRequest(
            forge=self.name,
            repo=repo,
            number=number,
            title=pr["title"],
            body=pr.get("body") or "",
            author=payload.login_of(pr.get("user")),
            base_ref=pr["base"]["ref"],
            head_ref=pr["head"]["ref"],
            head_sha=sha,
            labels=tuple(label["name"] for label in pr.get("labels") or ()),
            files=tuple(
                ChangedFile(f["filename"], FILE_STATUSES.get(f["status"], f["status"]), f.get("previous_filename"))
                for f in files
            ),
            changed_files=pr.get("changed_files"),  # more than listed: the list is cut (FILES_LIMIT)
            reviews=tuple(payload.review(r) for r in reviews),
            checks=tuple(map(payload.check_run, runs)) + tuple(map(payload.status, status)),
            comments=comments,
            draft=bool(pr.get("draft")),
            state=pr["state"],
            merged=bool(pr.get("merged")),
            url=pr.get("html_url") or "",
            created_at=payload.time_of(pr.get("created_at")),
        )

    async def issue(self, repo: str, number: int) -> Issue:
        data, _ = await self._get(f"/repos/{repo}/issues/{number}")
        self._labels_seen(repo, (label["name"] for label in data.get("labels") or ()))
        comments, links = await asyncio.gather(self._comments(repo, number), self._native_links(repo, number, data))
        return payload.issue(self.name, repo, data, comments, links)

    async def _native_links(self, repo: str, number: int, data: dict) -> tuple[NativeLink, ...]:
        """The issue's dependencies ("blocked by", "blocking") and sub-issues, read only when the issue's
        own summaries say it has some (most have none: no call); its parent is named in the issue."""
        if data.get("pull_request"):
            return ()
        deps = data.get("issue_dependencies_summary") or {}
        subs = data.get("sub_issues_summary") or {}
        base = f"/repos/{repo}/issues/{number}"
        lists = [(kind, url) for kind, url, count in (
            ("depends_on", f"{base}/dependencies/blocked_by", deps.get("total_blocked_by")),
            ("blocks", f"{base}/dependencies/blocking", deps.get("total_blocking")),
            ("sub_issue", f"{base}/sub_issues", subs.get("total")),
        ) if count]
        found = await asyncio.gather(*(self._readable(url) for _, url in lists))
        links = [payload.native_link(kind, item) for (kind, _), items in zip(lists, found) for item in items]
        parent = payload.issue_ref(data.get("parent_issue_url"))
        if parent is not None:
            links.append(NativeLink("parent", *parent))
        return tuple(link for link in links if link is not None)

    async def _comments(self, repo: str, number: int) -> tuple[Comment, ...]:
        return tuple(map(payload.comment, await self._pages(f"/repos/{repo}/issues/{number}/comments", {"per_page": 100})))

    async def file_at(self, repo: str, path: str, ref: str) -> str | None:
        """The file on ``ref``; an empty ``ref`` means the default branch."""
        params = {"ref": ref} if ref else None
        data, _ = await self._get(f"/repos/{repo}/contents/{quote(path)}", params, missing_ok=True)
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        return base64.b64decode(data["content"]).decode("utf-8", errors="replace")

    async def files_present(self, repo: str, ref: str, paths: tuple[str, ...]) -> set[str] | None:
        """From the git trees: the root tree of ``ref`` (a conditional read, free while the branch has
        not moved) and the subtrees the paths go through (addressed by their sha: free once read)."""
        if "/" in ref:  # a ref GitHub's path would not take as one segment: asked file by file
            return None
        try:
            root, _ = await self._get(f"/repos/{repo}/git/trees/{quote(ref or 'HEAD', safe='')}", missing_ok=True)
        except ForgeError as exc:
            if exc.status in (409, 422):  # an empty repository, a ref that is not a tree: ask file by file
                return None
            raise
        if not isinstance(root, dict) or root.get("truncated"):
            return None
        present = set()
        for path in paths:
            tree, *dirs, name = [root, *path.split("/")]
            for part in dirs:
                entry = next((e for e in tree.get("tree", ()) if e.get("path") == part and e.get("type") == "tree"), None)
                if entry is None:
                    tree = None
                    break
                tree, _ = await self._get(f"/repos/{repo}/git/trees/{entry['sha']}")
                if not isinstance(tree, dict) or tree.get("truncated"):
                    return None
            if tree is not None and any(e.get("path") == name and e.get("type") == "blob" for e in tree.get("tree", ())):
                present.add(path)
        return present

    async def pulls_for_commit(self, repo: str, sha: str) -> list[int]:
        pulls = await self._pages(f"/repos/{repo}/commits/{sha}/pulls", {"per_page": 100})
        return [p["number"] for p in pulls if p["state"] == "open"]

    async def team_members(self, org: str, team: str) -> frozenset[str]:
        members = await self._pages(f"/orgs/{org}/teams/{team}/members", {"per_page": 100}, missing_ok=True)
        return frozenset(m["login"] for m in members)

    async def permission(self, repo: str, user: str) -> str:
        data, _ = await self._get(f"/repos/{repo}/collaborators/{quote(user)}/permission", missing_ok=True)
        return data["permission"] if data else "none"

    async def timeline_references(self, repo: str, number: int, *, open_pulls_only: bool = False) -> list[tuple[str, int]]:
        """The issues and PRs that mention this one (cross-references), oldest first; with
        ``open_pulls_only``, only the open pull requests among them."""
        events = await self._pages(f"/repos/{repo}/issues/{number}/timeline", {"per_page": 100})
        refs: dict[tuple[str, int], None] = {}
        for event in events:
            source = (event.get("source") or {}).get("issue") if event.get("event") == "cross-referenced" else None
            if source and open_pulls_only and not (source.get("pull_request") and source.get("state") == "open"):
                continue
            if source:
                full_name = (source.get("repository") or {}).get("full_name")
                full_name = full_name or source["repository_url"].split("/repos/", 1)[1]
                refs[(full_name, source["number"])] = None
        return list(refs)

    # -- writes -------------------------------------------------------------------------------

    async def publish_verdict(self, pr: PullRequest, report: Report) -> None:
        """One check run named ``report.check_name`` per head sha: updated when there, else created."""
        _, slug = await self._identity()
        existing = next(
            (c for c in pr.checks
             if c.source == "check_run" and c.name == report.check_name and (slug is None or c.app_slug == slug)),
            None,
        )
        state = report.verdict.state
        body: dict[str, Any] = {
            "name": report.check_name,
            "output": {"title": report.title, "summary": fit(report.summary, MAX_TEXT)},
        }
        if state is State.PENDING:
            body["status"] = "in_progress"
        else:
            body["status"] = "completed"
            body["conclusion"] = "success" if state is State.PASSED else "failure"
        if report.target_url:
            body["details_url"] = report.target_url
        if existing and payload.shows(existing, body) and not report.always_write:
            pass  # the check already says exactly this: a write would only cost quota and an ETag
        elif existing:
            await self._request("PATCH", f"/repos/{pr.repo}/check-runs/{existing.id}", json=body)
        else:
            await self._request("POST", f"/repos/{pr.repo}/check-runs", json={**body, "head_sha": pr.head_sha})
        if report.sticky_comment:
            await self.upsert_comment(pr.repo, pr.number, STICKY_MARKER, f"{STICKY_MARKER}\n{report.summary}")

    async def publish_check(self, repo: str, sha: str, report: CheckReport, *, number: int | None = None,
                            existing: tuple[CheckResult, ...] | None = None) -> None:
        """One check run named ``report.name`` on ``sha``, with its annotations (GitHub takes 50 per
        request: the first 50 are sent, the summary lists them all)."""
        _, slug = await self._identity()
        if existing is None:
            found = await self._pages(f"/repos/{repo}/commits/{sha}/check-runs", {"check_name": report.name,
                                                                                    "per_page": 100}, key="check_runs")
            existing = tuple(map(payload.check_run, found))
        runs = [c for c in existing if c.source == "check_run" and c.name == report.name
                and (slug is None or c.app_slug == slug)]
        body: dict[str, Any] = {
            "name": report.name, "status": "completed", "conclusion": report.conclusion,
            "output": {"title": report.title, "summary": fit(report.summary, MAX_TEXT), "annotations": [
                {"path": a.path, "start_line": a.line, "end_line": a.line, "annotation_level": a.level,
                 "message": a.message, **({"title": a.title} if a.title else {})}
                for a in report.annotations[:MAX_ANNOTATIONS]]},
        }
        if report.target_url:
            body["details_url"] = report.target_url
        if runs and payload.shows(runs[-1], body) and not report.annotations:
            pass  # it already says exactly this
        elif runs:
            await self._request("PATCH", f"/repos/{repo}/check-runs/{runs[-1].id}", json=body)
        else:
            await self._request("POST", f"/repos/{repo}/check-runs", json={**body, "head_sha": sha})
        if report.sticky_marker and number is not None:
            await self.upsert_comment(repo, number, report.sticky_marker, report.summary)

    async def open_pulls(self, repo: str, limit: int) -> list[tuple[int, str]]:
        pulls, _ = await self._get(f"/repos/{repo}/pulls", {"state": "open", "sort": "updated",
                                                              "direction": "desc", "per_page": min(limit, 100)})
        return [(p["number"], p["base"]["ref"]) for p in pulls[:limit]]

    async def open_pulls_of_owner(self, owner: str, limit: int) -> list[tuple[str, int]]:
        query = {"q": f"is:pr is:open user:{owner}", "sort": "updated", "order": "desc", "per_page": min(limit, 100)}
        data, _ = await self._get("/search/issues", query)
        found = []
        for item in data.get("items") or ():
            found.append((item["repository_url"].split("/repos/", 1)[1], item["number"]))
        return found[:limit]

    async def items_updated(self, owner: str, since: datetime, until: datetime) -> list[Issue]:
        """Issues and pull requests of ``owner`` updated in [since, until), from the search API
        (100 a call; a window with more than GitHub's 1,000 results is halved until each fits). The
        snapshots carry no comments and no native links (a backfill's history needs neither)."""
        query = {"q": f"user:{owner} updated:{_iso(since)}..{_iso(until)}", "sort": "updated", "order": "asc",
                 "per_page": 100}
        page, next_url = await self._get("/search/issues", query)
        if page.get("total_count", 0) > SEARCH_LIMIT and until - since > timedelta(minutes=2):
            middle = since + (until - since) / 2
            return await self.items_updated(owner, since, middle) + await self.items_updated(owner, middle, until)
        items = list(page.get("items") or ())  # the first page is read once: it said how many there are
        if next_url and len(items) < SEARCH_LIMIT:
            items += await self._pages(next_url, key="items", limit=SEARCH_LIMIT - len(items))
        found = {}
        for data in items:
            repo = data["repository_url"].split("/repos/", 1)[1]
            found[(repo, data["number"])] = payload.issue(self.name, repo, data)
        return list(found.values())

    async def deployments(self, repo: str, environment: str, since: datetime) -> list[tuple[str, datetime]]:
        """(sha, when) of each deployment to ``environment`` since ``since`` that succeeded, from its
        statuses (one call per deployment; deployments are listed newest first)."""
        listed = await self._pages(f"/repos/{repo}/deployments", {"environment": environment, "per_page": 100},
                                   limit=100)
        found = []
        for d in listed:
            created = payload.time_of(d.get("created_at"))
            if created is None or created < since:
                break
            statuses = await self._pages(f"/repos/{repo}/deployments/{d['id']}/statuses", {"per_page": 100})
            succeeded = [t for st in statuses if st.get("state") == "success" and (t := payload.time_of(st.get("created_at")))]
            if succeeded:
                found.append((d["sha"], min(succeeded)))
        return found

    async def set_labels(
        self, repo: str, number: int, add: Iterable[str], remove: Iterable[str],
        styles: Mapping[str, LabelStyle] = {},
    ) -> None:
        """Converge with a conditional read of the labels (a free 304 when nothing changed): add the
        missing ones, remove the present ones. A styled label not seen in the repository yet (on a
        snapshot, in a listing, or created by this adapter) is created first with its colour and
        description, one write; else GitHub would create it grey on the fly, and styling it would
        take a second write."""
        labels = await self._pages(f"/repos/{repo}/issues/{number}/labels", {"per_page": 100})
        current = {label["name"] for label in labels}
        self._labels_seen(repo, current)
        missing = [name for name in dict.fromkeys(add) if name not in current]
        present = [name for name in dict.fromkeys(remove) if name in current and name not in missing]
        for name in missing:
            if name in styles and (repo, name.casefold()) not in self._labels:
                await self._create_label(repo, name, styles[name])
        if missing:
            response = await self._request("POST", f"/repos/{repo}/issues/{number}/labels", json={"labels": missing})
            self._labels_seen(repo, (label["name"] for label in response.json()))
        for name in present:
            url = f"/repos/{repo}/issues/{number}/labels/{quote(name, safe='')}"
            await self._request("DELETE", url, missing_ok=True)

    async def _create_label(self, repo: str, name: str, style: LabelStyle) -> None:
        """``POST /labels``; a label that exists already (422 ``already_exists``: one the bot had not
        seen, or created meanwhile) is a success and keeps its own colour. Another 422 (a colour
        GitHub refuses) leaves the label to be created grey when it is added, and is logged."""
        body = {"name": name, "color": style.hex}
        if style.description:
            body["description"] = style.description
        try:
            await self._request("POST", f"/repos/{repo}/labels", json=body)
        except ForgeError as exc:
            if exc.status != 422:
                raise
            if not _already_exists(exc):
                log.warning("label %r not created in %s with %s: %s", name, repo, body, exc)
        self._labels_seen(repo, (name,))

    def _labels_seen(self, repo: str, names: Iterable[str]) -> None:
        """Labels known to exist in ``repo`` (compared as GitHub does, ignoring case): adding them
        needs no creation first."""
        for name in names:
            self._labels[(repo, name.casefold())] = True

    async def upsert_comment(self, repo: str, number: int, marker: str, body: str) -> int:
        """This bot's comment carrying ``marker`` edited in place (never anyone else's), or created."""
        login, _ = await self._identity()
        body = fit(body if marker in body else f"{marker}\n{body}", MAX_TEXT)
        comments = await self._comments(repo, number)
        mine = next((c for c in comments if c.author == login and marker in c.body), None)
        if mine is None:
            return await self.post_comment(repo, number, body)
        if mine.body != body:
            await self._request("PATCH", f"/repos/{repo}/issues/comments/{mine.id}", json={"body": body})
        return mine.id

    async def _readable(self, url: str) -> list:
        """A list the token may not be allowed to read (403 on a repository without issues enabled, a
        feature not on this GitHub Enterprise version): empty rather than failing the whole read."""
        try:
            return await self._pages(url, {"per_page": 100}, missing_ok=True)
        except ForgeError as exc:
            if exc.status in (403, 410, 422) and exc.retry_after is None:  # not a rate limit
                return []
            raise

    async def upsert_issue(self, repo: str, title: str, body: str) -> int:
        login, _ = await self._identity()
        mine = await self._pages(f"/repos/{repo}/issues", {"state": "open", "creator": login, "per_page": 100})
        found = next((i for i in mine if i.get("title") == title and not i.get("pull_request")), None)
        if found is None:
            response = await self._request("POST", f"/repos/{repo}/issues", json={"title": title, "body": fit(body, MAX_TEXT)})
            return response.json()["number"]
        if found.get("body") != body:
            await self._request("PATCH", f"/repos/{repo}/issues/{found['number']}", json={"body": fit(body, MAX_TEXT)})
        return found["number"]

    async def add_dependency(self, repo: str, number: int, on_repo: str, on_number: int) -> None:
        """GitHub's "blocked by": the blocking issue is named by its id, read (conditionally) first."""
        blocking, _ = await self._get(f"/repos/{on_repo}/issues/{on_number}")
        await self._request("POST", f"/repos/{repo}/issues/{number}/dependencies/blocked_by",
                            json={"issue_id": blocking["id"]})

    async def post_comment(self, repo: str, number: int, body: str) -> int:
        response = await self._request("POST", f"/repos/{repo}/issues/{number}/comments", json={"body": body})
        return response.json()["id"]

    async def react(self, repo: str, comment_id: int, content: str = "eyes") -> None:
        await self._request("POST", f"/repos/{repo}/issues/comments/{comment_id}/reactions", json={"content": content})

    async def request_reviews(self, repo: str, number: int, teams: Iterable[str]) -> None:
        """``teams``: slugs, or ``org/slug`` / ``@org/slug`` as CODEOWNERS writes them."""
        slugs = list(dict.fromkeys(t.rsplit("/", 1)[-1] for t in teams))
        if slugs:
            url = f"/repos/{repo}/pulls/{number}/requested_reviewers"
            await self._request("POST", url, json={"team_reviewers": slugs})


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a line end, keeping its trailing verdict block."""
    if len(text) <= limit:
        return text
    start = text.rfind(markers.VERDICT_START)
    tail = text[start:] if start >= 0 else ""
    note = CUT_NOTE if len(tail) + len(CUT_NOTE) < limit else ""
    head = text[: max(0, limit - len(tail) - len(note))]
    if "\n" in head:
        head = head[: head.rfind("\n")]
    return (head + note + tail)[:limit]


def _already_exists(exc: ForgeError) -> bool:
    """A 422 that says the label is there already (GitHub: ``errors: [{code: already_exists}]``)."""
    cause = exc.__cause__
    cause = getattr(cause, "exc", cause) if not isinstance(cause, RequestFailed) else cause  # githubkit may wrap it
    if not isinstance(cause, RequestFailed):
        return False
    try:
        errors = cause.response.json().get("errors") or []
    except (ValueError, AttributeError):
        return False
    return any(isinstance(e, dict) and e.get("code") == "already_exists" for e in errors)


async def _gather(*aws: Awaitable) -> list:
    """``asyncio.gather`` that cancels the others when one fails."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise

