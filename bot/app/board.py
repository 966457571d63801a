"""The Nexus board's data: what ``/board``, ``/board.json`` and a pull request's page show, for one
viewer. Read from the store through the ports (no forge call: the web layer may serve it while the
forges are down):

- the open pull requests with their DoD state, teams, missing reviews per team, waivers and how long
  they have waited (the records ``verdicts.py`` keeps);
- per organisation (forge instance and owner), under the organisation config its verdicts were last
  judged by: the sprint's figures and alarms and the sprint's cross-team dependency table, computed
  by ``checks/nexus_metrics.py`` as ``/nexus metrics`` and ``/nexus deps sprint`` compute them, on
  the history the viewer may read; and the Ready state of the backlog per team.

Everything is filtered by the viewer's ``can_read(where, repo)`` before anything is computed; the
``?team=&repo=`` filters narrow it further (a repository filter narrows the figures too: they are
then that repository's). The history of an organisation is read again from the store every
``history_seconds`` (a year of it is ~140,000 records), and the figures computed from it are kept as
long, per viewer scope and filters; both are served while they are refreshed in the background
(``refreshing.py``), so only the first look at an organisation waits for its history (``warm``
reads it when the board starts). The pull requests are read at every request.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Hashable

from .. import board as pure
from ..board import CanRead, Filters
from ..checks.nexus_metrics import SprintUnknown, nexus_metrics, sprint_dependencies
from ..config import Config, ConfigError, load_config
from ..history import NexusHistory
from ..locales import DEFAULT_LANGUAGE
from ..pull_record import pull_key
from .ports import BoardRecords, History
from .refreshing import Refreshing

HISTORY_SECONDS = 30.0


@lru_cache(maxsize=32)
def _config(source: tuple[str, str]) -> Config | None:
    try:
        return load_config(source)
    except ConfigError:  # kept because it was in force: cannot happen unless the bot's schema changed
        return None


class Board:
    def __init__(self, records: BoardRecords, history: History, history_seconds: float = HISTORY_SECONDS):
        self.records, self.history = records, history
        self._histories = Refreshing(history_seconds, maxsize=64)
        self._sections = Refreshing(history_seconds, maxsize=256)
        self._decoded: dict[str, dict[str, Any]] = {}  # record text -> its JSON, for the records still there

    async def _pulls(self) -> list[dict[str, Any]]:
        texts = await self.records.pulls()
        decoded = {text: self._decoded.get(text) or json.loads(text) for text in texts}
        self._decoded = decoded
        return list(decoded.values())

    async def _history(self, where: str, owner: str) -> tuple:
        return await self._histories.get((where, owner), lambda: self.history.load(where, owner))

    async def close(self) -> None:
        """Stop the background refreshes (the process is stopping)."""
        await self._histories.close()
        await self._sections.close()

    async def warm(self) -> None:
        """Read every organisation's history once (the board's first look then waits for nothing)."""
        for where, owner in sorted(await self.records.org_configs()):
            await self._history(where, owner)

    async def data(self, can_read: CanRead, scope: Hashable, filters: Filters = Filters(),
                   now: datetime | None = None) -> dict[str, Any]:
        """The board for a viewer who may read what ``can_read`` says (``scope``: a key that is the
        same for viewers who may read the same repositories)."""
        now = now or datetime.now(timezone.utc)
        records = await self._pulls()
        configs = await self.records.org_configs()
        readable = {(r["where"], r["repo"].split("/", 1)[0].lower()) for r in records if can_read(r["where"], r["repo"])}
        organisations = []
        for (where, owner), source in sorted(configs.items()):
            config = _config(source)
            if config is None or (where, owner) not in readable:
                continue
            if filters.team and filters.team not in config.teams:
                continue  # no team of this organisation: nothing to compute (nor to keep for any value typed)
            if filters.repo and (filters.repo.split("/", 1)[0].lower() != owner or not can_read(where, filters.repo)):
                continue
            key = (where, owner, source[1], scope, filters)
            organisations.append(await self._sections.get(
                key, lambda: self._section(where, owner, config, can_read, filters, now)))
        pulls = pure.open_pulls(records, can_read, filters, now)
        teams: dict[str, str] = {}
        for (where, owner), source in sorted(configs.items()):
            config = _config(source)
            if config is not None and (where, owner) in readable:
                teams.update({k: config.team_name(k) for k in config.teams if k not in teams})
        return {
            "generated_at": now.isoformat(),
            "language": organisations[0]["language"] if organisations else DEFAULT_LANGUAGE,
            "filters": {"team": filters.team, "repo": filters.repo},
            "teams": [{"key": k, "name": n} for k, n in teams.items()],
            "repos": sorted({r["repo"] for r in records if r.get("open") and can_read(r["where"], r["repo"])}),
            "pulls": pulls,
            "organisations": organisations,
        }

    async def _section(self, where: str, owner: str, config: Config, can_read: CanRead, filters: Filters,
                       now: datetime) -> dict[str, Any]:
        items, evidence = await self._history(where, owner)
        # a year of history takes a few hundred milliseconds: not on the loop that accepts webhooks
        return await asyncio.to_thread(_section, where, owner, config, can_read, filters, now, items, evidence)

    async def pull(self, where: str, repo: str, number: int, can_read: CanRead) -> dict[str, Any] | None:
        """A pull request's record, when the viewer may read it (None: unknown, or not theirs to read:
        the same answer, so that private repositories cannot be probed)."""
        if not can_read(where, repo):
            return None
        text = await self.records.pull(pull_key(where, repo, number))
        return json.loads(text) if text else None


def _section(where: str, owner: str, config: Config, can_read: CanRead, filters: Filters, now: datetime,
             items: list, evidence: list) -> dict[str, Any]:
    """One organisation's figures, dependency table and backlog, on the history the viewer may read."""
    in_scope = (lambda w, repo: can_read(w, repo) and repo.lower() == filters.repo.lower()) if filters.repo \
        else can_read
    history = pure.readable_history(NexusHistory(as_of=now, items=tuple(items), evidence=tuple(evidence)),
                                    where, in_scope)
    section: dict[str, Any] = {"where": where, "owner": owner, "language": config.lang,
                               "team_names": {k: config.team_name(k) for k in config.teams},
                               "thresholds": pure.plain(config.nexus.thresholds.model_dump())}
    try:
        section["metrics"] = pure.metrics(nexus_metrics(history, config), filters)
        _, rows = sprint_dependencies(history, config)
        section["dependencies"] = pure.dependencies(rows, filters)
        section["sprint_unknown"] = None
    except SprintUnknown as unknown:
        section.update(metrics=None, dependencies=[], sprint_unknown=unknown.reason)
    section["backlog"] = pure.backlog(history.items, config, filters)
    return section
