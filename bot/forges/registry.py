"""Which adapter serves a delivery: the GitHub App's installation (or a token), or one of the
configured Forgejo instances. The process hands it its credentials; it hands back forges and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..model import Event
from . import forgejo_webhooks, github_webhooks
from .base import Forge, PayloadError, Webhooks
from .forgejo import ForgejoForge
from .github import GitHubApp, GitHubForge

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


class Forges:
    def __init__(self, github: GitHubCredentials, forgejo: tuple[ForgejoCredentials, ...] = ()):
        self.app_id = github.app_id
        self.github_app: GitHubApp | None = None
        self.github_token: GitHubForge | None = None
        if github.app_id and github.private_key:
            self.github_app = GitHubApp(github.app_id, github.private_key, github.api_url, app_slug=github.app_slug)
        elif github.token:
            self.github_token = GitHubForge.from_token(github.token, api_url=github.api_url)
        self.forgejo: dict[str, ForgejoForge] = {i.name: ForgejoForge(i.url, i.token) for i in forgejo}

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

    async def aclose(self) -> None:
        if self.github_app:
            await self.github_app.aclose()
        if self.github_token:
            await self.github_token.aclose()
        for forge in self.forgejo.values():
            await forge.aclose()
