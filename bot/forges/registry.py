"""Which adapter serves a delivery: the GitHub App's installation, or a configured Forgejo instance."""

from __future__ import annotations

from .. import recheck
from ..events import Event, PayloadError
from ..settings import Settings
from ..store import Delivery
from . import forgejo_webhooks, github_webhooks
from .base import Forge


class NotConfigured(PayloadError):
    """The delivery is for a forge the bot has no credentials for."""


class Forges:
    def __init__(self, settings: Settings):
        from .forgejo import ForgejoForge
        from .github import GitHubApp, GitHubForge

        self.settings = settings
        self.github_app = None
        self.github_token = None
        if settings.app_id and settings.private_key:
            self.github_app = GitHubApp(
                settings.app_id, settings.private_key, settings.github_api_url, app_slug=settings.app_slug
            )
        elif settings.github_token:
            self.github_token = GitHubForge.from_token(settings.github_token, api_url=settings.github_api_url)
        self.forgejo: dict[str, Forge] = {
            i.name: ForgejoForge(i.url, i.token) for i in settings.forgejo
        }

    async def github_login(self) -> str | None:
        if self.github_app:
            return await self.github_app.bot_login()
        if self.github_token:
            return await self.github_token.login()
        return None

    async def parse(self, delivery: Delivery) -> Event:
        scheduled = recheck.parse(delivery.headers, delivery.body, delivery.instance, delivery.forge)
        if scheduled is not None:
            return scheduled
        if delivery.forge == "github":
            return github_webhooks.parse(
                delivery.headers, delivery.body, app_id=self.settings.app_id, bot_login=await self.github_login()
            )
        forge = self.forgejo.get(delivery.instance)
        login = await forge.login() if forge is not None else None
        return forgejo_webhooks.parse(delivery.headers, delivery.body, instance=delivery.instance, bot_login=login)

    def for_event(self, event: Event) -> Forge:
        if event.forge == "github":
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
