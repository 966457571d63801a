"""What the use cases need of the process, as small interfaces the process implements (the store of
``bot/service/`` today; SQLite or anything else tomorrow), and the bundle they are handed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..history import IntegrationEvidence, ItemRecord
from ..markers import Signer
from ..model import ItemRef

if TYPE_CHECKING:
    from .cached_reads import CachedReads


class Memory(Protocol):
    """The bot's record of what it wrote, so that it only ever undoes its own doing."""

    async def marks(self, forge: str, repo: str, number: int, kind: str) -> set[str]:
        """The values recorded for one item (``kind``: "label", "review-request")."""

    async def mark(self, forge: str, repo: str, number: int, kind: str, values: set[str], present: bool = True) -> None:
        """Record (or, with ``present=False``, forget) values for one item."""

    async def remember(self, key: str, value: str) -> None:
        """Keep ``value`` across restarts (the last good organisation config)."""

    async def recall(self, key: str) -> str | None: ...

    async def lock(self, key: str, owner: str, seconds: float) -> bool:
        """Hold ``key`` for ``seconds`` (one holder across processes); True when ``owner`` holds it."""


class Rechecks(Protocol):
    """Re-evaluations the bot schedules for itself, for changes no webhook will announce."""

    async def schedule(self, forge: str, where: str, repo: str, number: int, cause: str, after: float,
                 round_: int = 1, installation_id: int | None = None) -> None:
        """Re-evaluate ``repo#number`` in ``after`` seconds; once per (cause, round)."""


class History(Protocol):
    """The records the Nexus metrics are computed from (``bot/history.py``), per forge instance and owner."""

    async def item(self, where: str, owner: str, ref: ItemRef) -> ItemRecord | None: ...

    async def keep_items(self, where: str, owner: str, records: list[ItemRecord]) -> None:
        """Upsert: the record with the newer ``updated_at`` wins."""

    async def keep_evidence(self, where: str, owner: str, evidence: list[IntegrationEvidence]) -> None: ...

    async def load(self, where: str, owner: str) -> tuple[list[ItemRecord], list[IntegrationEvidence]]: ...


class BoardRecords(Protocol):
    """The board's records (``bot/pull_record.py``): the latest verdict of each pull request, and the
    organisation config each owner's verdicts were judged under (the board's sprint calendar,
    thresholds, teams and language). Newest wins, per key."""

    async def keep_pull(self, key: str, at: float, record: str) -> None: ...

    async def pulls(self) -> list[str]:
        """Every pull request's record, open or closed (``"open": false``)."""

    async def pull(self, key: str) -> str | None: ...

    async def keep_org_config(self, where: str, owner: str, at: float, source: tuple[str, str]) -> None: ...

    async def org_configs(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(where, owner) -> (filename, text) of the organisation config last judged under."""


class Observations(Protocol):
    """What the use cases tell the process's metrics."""

    def verdict(self, forge: str, state: str, waived: int) -> None:
        """A DoD verdict published (``waived``: items waived in it)."""

    def config_error(self, source: str) -> None:
        """A config that cannot be used was met (``source``: organisation or repository)."""


class NoObservations:
    def verdict(self, forge: str, state: str, waived: int) -> None:
        return None

    def config_error(self, source: str) -> None:
        return None


@dataclass
class Services:
    """What the process gives the use cases."""

    memory: Memory
    rechecks: Rechecks
    reads: "CachedReads"
    history: History | None = None  # None: the metrics' history is not kept (tests of other use cases)
    board: BoardRecords | None = None  # None: the board's records are not kept (tests of other use cases)
    signer: Signer = Signer(())  # signs the markers the bot reads back (waivers, replies)
    details_url: str | None = None  # the link shown with a verdict, may name {where}, {repo} and {number}
    observe: Observations = NoObservations()
    recheck_seconds: float = 60.0  # how often a verdict waiting for CI is re-checked where no webhook says CI finished
