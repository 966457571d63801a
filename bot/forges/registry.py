"""Which adapter serves a delivery: the GitHub App's installation (or a token), or one of the
configured Forgejo instances. The process hands it its credentials; it hands back forges and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..model import Event
from . import forgejo_webhooks, github_webhooks
from .base import Forge, ForgeError, PayloadError, Webhooks
from .forgejo import ForgejoForge
from .github import GitHubApp, GitHubForge
from .traffic import NoTraffic, Traffic

def _key_problem(private_key: str) -> str | None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError) as exc:
        return str(exc).splitlines()[0][:200]
    return None


WEBHOOKS: dict[str, Webhooks] = {w.forge: w for w in (github_webhooks.WEBHOOKS, forgejo_webhooks.WEBHOOKS)}


class NotConfigured(PayloadError):
    """The delivery is for a forge the bot has no credentials for."""


@dataclass(frozen=True)
class GitHubCredentials:
    app_id: int | None = None
    private_key: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    api_url: str = "https://api.github.com"
    app_slug: str | None = None


@dataclass(frozen=True)
class ForgejoCredentials:
    name: str  # "default", or the instance's name in the settings
    url: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class Readiness:
    """What the bot can serve, said at start: one line per forge."""

    forge: str
    ok: bool
    message: str


class Forges:
    def __init__(self, github: GitHubCredentials, forgejo: tuple[ForgejoCredentials, ...] = (),
                 traffic: Traffic = NoTraffic()):
        self.app_id = github.app_id
        self.github_app: GitHubApp | None = None
        self.github_token: GitHubForge | None = None
        self.github_problem: str | None = None  # why GitHub cannot be served (deliveries wait for a fix)
        self.api_url = github.api_url
        if github.app_id and github.private_key:
            problem = _key_problem(github.private_key)
            if problem:
                self.github_problem = f"PRIVATE_KEY (or PRIVATE_KEY_PATH) is not a usable private key: {problem}"
            else:
                self.github_app = GitHubApp(github.app_id, github.private_key, github.api_url, app_slug=github.app_slug,
                                            traffic=traffic)
        elif github.token:
            self.github_token = GitHubForge.from_token(github.token, api_url=github.api_url, traffic=traffic)
        self.forgejo: dict[str, ForgejoForge] = {i.name: ForgejoForge(i.url, i.token, traffic=traffic, account=i.name)
                                                  for i in forgejo}
        self._forgejo_urls = {i.name: i.url for i in forgejo}

    async def check(self) -> list[Readiness]:
        """Ask each forge whether its credentials work (one call each), and say so plainly."""
        found = []
        if self.github_problem:
            found.append(Readiness("github", False, self.github_problem))
        elif self.github_app:
            try:
                slug = await self.github_app.verify()
                found.append(Readiness("github", True, f"GitHub App {self.app_id} ({slug}) at {self.api_url}"))
            except ForgeError as exc:
                why = "refuses APP_ID / PRIVATE_KEY" if exc.status in (401, 403, 404) else "cannot be reached"
                found.append(Readiness("github", False, f"GitHub at {self.api_url} {why}: {exc}"))
        elif self.github_token:
            try:
                found.append(Readiness("github", True, f"GitHub as {await self.github_token.login()} (GITHUB_TOKEN)"))
            except ForgeError as exc:
                found.append(Readiness("github", False, f"GitHub at {self.api_url} refuses GITHUB_TOKEN: {exc}"))
        for name, forge in self.forgejo.items():
            setting = "FORGEJO_TOKEN" if name == "default" else f"FORGEJO_{name.upper()}_TOKEN"
            place = f"Forgejo instance {name!r} ({self._forgejo_urls[name]})"
            try:
                found.append(Readiness(f"forgejo:{name}", True, f"{place} as {await forge.login()}"))
            except ForgeError as exc:
                why = f"refuses {setting}" if exc.status in (401, 403) else "cannot be reached"
                found.append(Readiness(f"forgejo:{name}", False, f"{place} {why}: {exc}"))
        return found

    async def github_login(self) -> str | None:
        if self.github_app:
            return await self.github_app.bot_login()
        if self.github_token:
            return await self.github_token.login()
        return None

    async def parse(self, forge: str, instance: str, headers: Mapping[str, str], body: bytes) -> Event:
        """The event of one delivery. Raises PayloadError (and its UnknownEvent, NotConfigured)."""
        if forge == github_webhooks.FORGE:
            return github_webhooks.parse(headers, body, app_id=self.app_id, bot_login=await self.github_login())
        if forge == forgejo_webhooks.FORGE:
            adapter = self.forgejo.get(instance)
            login = await adapter.login() if adapter is not None else None
            return forgejo_webhooks.parse(headers, body, instance=instance, bot_login=login)
        raise NotConfigured(f"no forge named {forge!r}")

    def for_event(self, event: Event) -> Forge:
        if event.forge == github_webhooks.FORGE:
            if self.github_problem:
                raise NotConfigured(self.github_problem)
            if self.github_app:
                if event.installation_id is None:
                    raise NotConfigured("the delivery has no installation id")
                return self.github_app.forge_for(event.installation_id)
            if self.github_token:
                return self.github_token
            raise NotConfigured("no GitHub App (APP_ID, PRIVATE_KEY) or GITHUB_TOKEN is configured")
        forge = self.forgejo.get(event.instance or "default")
        if forge is None:
            raise NotConfigured(f"no Forgejo instance {event.instance!r} is configured")
        return forge

    async def for_owner(self, owner: str, instance: str | None = None) -> Forge:
        """The forge that serves ``owner`` (the GitHub App's installation on it, or the token; with
        ``instance``, that Forgejo instance). Raises NotConfigured."""
        if instance is not None:
            forge = self.forgejo.get(instance)
            if forge is None:
                raise NotConfigured(f"no Forgejo instance {instance!r} is configured")
            return forge
        if self.github_problem:
            raise NotConfigured(self.github_problem)
        if self.github_app:
            installation = await self.github_app.installation_of(owner)
            if installation is None:
                raise NotConfigured(f"the GitHub App is not installed on {owner!r}")
            return self.github_app.forge_for(installation)
        if self.github_token:
            return self.github_token
        raise NotConfigured("no GitHub App (APP_ID, PRIVATE_KEY) or GITHUB_TOKEN is configured")

    async def aclose(self) -> None:
        if self.github_app:
            await self.github_app.aclose()
        if self.github_token:
            await self.github_token.aclose()
        for forge in self.forgejo.values():
            await forge.aclose()
