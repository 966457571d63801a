"""Settings from the environment (or a ``.env`` file), with the names Probot apps use where one exists.

Secrets (private key, tokens, webhook secrets) are read here and nowhere else, and ``repr`` never
shows them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import load_dotenv


class SettingsError(ValueError):
    pass


class Secret(str):
    """A string that never prints itself."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class OAuthApp:
    """An OAuth client registered on a forge, through which people sign in to the board."""

    client_id: str
    client_secret: Secret = field(repr=False)


@dataclass(frozen=True)
class ForgejoInstance:
    name: str  # "default", or the NAME of FORGEJO_<NAME>_URL; webhooks arrive at /webhooks/forgejo[/NAME]
    url: str
    token: Secret = field(repr=False)
    webhook_secret: Secret = field(repr=False)
    org_config_repo: str = ".github"
    org_config_path: str = "nexus.yml"
    board_client: OAuthApp | None = None  # BOARD_FORGEJO[_<NAME>]_CLIENT_ID/_SECRET: sign-in to the board


# name, meaning: the one description of every setting. `nexus-bot serve --help` prints it, and
# `nexus-bot settings` prints it as the README's table (a test keeps the two equal).
DOCUMENTED = [
    ("APP_ID", "GitHub App id"),
    ("PRIVATE_KEY", "GitHub App private key (PEM text; \\n in a one-line value is a line break)"),
    ("PRIVATE_KEY_PATH", "or a file holding it"),
    ("WEBHOOK_SECRET", "secret of the GitHub webhook (HMAC-SHA256)"),
    ("MARKER_KEYS", "keys that sign the markers the bot reads back (waivers): KEY1,KEY2, the first signs, all verify; default: derived from the webhook secret"),
    ("GITHUB_API_URL", "GitHub API base URL (default https://api.github.com; GHES: https://HOST/api/v3)"),
    ("GITHUB_TOKEN", "a token for `nexus-bot check` (dry run), or to run without a GitHub App"),
    ("APP_SLUG", "the app's slug, recommended: deliveries need not wait for GET /app when GitHub is down"),
    ("GITHUB_WEB_URL", "GitHub's web address, for registering the App at /setup (default https://github.com; GHES: https://HOST)"),
    ("PUBLIC_URL", "the bot's own address as the forges reach it, for /setup (default: the Host of the request)"),
    ("FORGEJO_URL", "Forgejo/Gitea base URL, e.g. https://codeberg.org"),
    ("FORGEJO_TOKEN", "Forgejo/Gitea token of the bot user"),
    ("FORGEJO_WEBHOOK_SECRET", "secret of the Forgejo/Gitea webhook"),
    ("FORGEJO_INSTANCES", "more instances: NAME1,NAME2 with FORGEJO_<NAME>_URL/_TOKEN/_WEBHOOK_SECRET"),
    ("FORGEJO_ORG_CONFIG_REPO", "per instance (FORGEJO_<NAME>_ORG_CONFIG_REPO): where its owners keep their config"),
    ("FORGEJO_ORG_CONFIG_PATH", "per instance (FORGEJO_<NAME>_ORG_CONFIG_PATH): its path there"),
    ("PORT", "HTTP port (default 3000)"),
    ("HOST", "HTTP address (default 0.0.0.0)"),
    ("LOG_LEVEL", "debug | info | warn | error (default info)"),
    ("LOG_FORMAT", "json: one JSON object per line, for a log shipper; pretty: for a terminal (default pretty)"),
    ("REDIS_URL", "redis://HOST:PORT/DB: the queue and the bot's state in Redis, shared by any number of replicas (default: the SQLite file)"),
    ("LEASE_SECONDS", "with Redis: work a replica claimed and stopped renewing is taken over after this (default 30)"),
    ("METRICS_PORT", "`--role worker`: serve /metrics, /healthz, /readyz on this port (default: none)"),
    ("DATABASE_PATH", "SQLite file for the queue and the bot's state (default ./nexus-bot.sqlite3)"),
    ("NEXUS_CONFIG", "the organisation config when an owner has none in a repository (default: the embedded config/dod.yml)"),
    ("ORG_CONFIG_REPO", "the repository of an owner holding its organisation config (default .github)"),
    ("ORG_CONFIG_PATH", "the organisation config's path in it, on its default branch (default nexus.yml)"),
    ("CONFIG_TTL_SECONDS", "re-read a repository's nexus.yml and CODEOWNERS this often; a push changing them applies at once (default 300)"),
    ("CONFIG_MISSING_TTL_SECONDS", "and a file found missing is asked for again after this; a push adding it applies at once (default 3600)"),
    ("ORG_CONFIG_TTL_SECONDS", "re-read an unchanged organisation config this often; a push changing it applies at once (default 300)"),
    ("WORKERS", "concurrent evaluations (default 4)"),
    ("COALESCE_SECONDS", "events for one PR/issue within this window give one evaluation (default 2)"),
    ("DELIVERY_TTL_HOURS", "how long delivery ids are remembered against redeliveries (default 24)"),
    ("MAX_BODY_BYTES", "largest webhook body accepted (default 26214400, GitHub's 25 MB)"),
    ("MAX_UNVERIFIED_BYTES", "bytes buffered at once for bodies whose signature is not checked yet; more gets 503 (default 67108864)"),
    ("MAX_CONNECTIONS", "open connections at most; a new one past it is closed (default 1000)"),
    ("HEADER_TIMEOUT_SECONDS", "a request's headers must arrive within this (default 10)"),
    ("BODY_TIMEOUT_SECONDS", "and its body within this (default 10); else 408"),
    ("FORGEJO_RECHECK_SECONDS", "Forgejo sends no webhook when CI finishes: re-check a verdict waiting for CI this often (default 60; 0: never)"),
    ("RETRY_BASE_SECONDS", "first wait before work that failed on the forge is tried again, doubled each time (default 1)"),
    ("RETRY_MAX_SECONDS", "longest such wait (default 300); a forge's Retry-After is always honoured"),
    ("WRITES_PER_MINUTE", "writes per installation per minute, across all replicas (default 80, GitHub's secondary limit); 0: no pacing"),
    ("LOW_QUOTA_COALESCE_SECONDS", "when an installation has less than 10 % of its quota left, events for one PR are merged over this window (default 30)"),
    ("BACKFILL_SPRINTS", "the first time the bot works for an owner it reads the current sprint and this many previous ones into the Nexus metrics' history (default 6; 0: no backfill at first sight, `nexus-bot backfill` still works)"),
    ("DETAILS_URL", "link shown with the verdict; may name {where}, {repo} and {number} (optional)"),
    ("BOARD_URL", "the bot's public address, e.g. https://nexus.example.org: the verdict links to the pull request's board page there (without DETAILS_URL), and the forges send people back to BOARD_URL/signin/WHERE/callback"),
    ("BOARD_TOKEN", "a read-only token for the board (`Authorization: Bearer …`), for dashboards and scripts; it reads every repository (optional)"),
    ("BOARD_SESSION_SECRET", "signs the board's session cookies; at least 32 characters (e.g. `openssl rand -hex 32`); required for sign-in"),
    ("BOARD_SESSION_HOURS", "a board session lasts this long, then the person signs in again (default 8)"),
    ("BOARD_GITHUB_CLIENT_ID", "the GitHub App's client id: people sign in to the board with GitHub"),
    ("BOARD_GITHUB_CLIENT_SECRET", "and its client secret"),
    ("BOARD_FORGEJO_CLIENT_ID", "per instance (BOARD_FORGEJO_<NAME>_CLIENT_ID): a Forgejo/Gitea OAuth2 application's client id, to sign in there"),
    ("BOARD_FORGEJO_CLIENT_SECRET", "per instance (BOARD_FORGEJO_<NAME>_CLIENT_SECRET): and its client secret"),
]


def settings_table() -> str:
    """The settings as the README shows them (markdown)."""
    pipe = "\\|"
    rows = [f"| `{name}` | {meaning.replace('|', pipe)} |" for name, meaning in DOCUMENTED]
    return "\n".join(["| name | meaning |", "| --- | --- |", *rows]) + "\n"


@dataclass(frozen=True)
class Settings:
    app_id: int | None = None
    private_key: Secret | None = field(default=None, repr=False)
    webhook_secret: Secret | None = field(default=None, repr=False)
    github_api_url: str = "https://api.github.com"
    github_token: Secret | None = field(default=None, repr=False)
    app_slug: str | None = None
    github_web_url: str = "https://github.com"
    public_url: str | None = None
    forgejo: tuple[ForgejoInstance, ...] = ()
    port: int = 3000
    host: str = "0.0.0.0"
    log_level: str = "info"
    log_format: str = "pretty"
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    lease_seconds: float = 30.0
    metrics_port: int | None = None
    database_path: str = "nexus-bot.sqlite3"
    config_path: str | None = None
    org_config_repo: str = ".github"
    org_config_path: str = "nexus.yml"
    org_config_ttl_seconds: float = 300.0
    config_ttl_seconds: float = 300.0
    config_missing_ttl_seconds: float = 3600.0
    workers: int = 4
    coalesce_seconds: float = 2.0
    delivery_ttl_hours: float = 24.0
    max_body_bytes: int = 25 * 1024 * 1024
    max_unverified_bytes: int = 64 * 1024 * 1024
    max_connections: int = 1000
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 10.0
    details_url: str | None = None
    board_token: Secret | None = field(default=None, repr=False)
    forgejo_recheck_seconds: float = 60.0
    marker_keys: tuple[Secret, ...] = field(default=(), repr=False)
    retry_base_seconds: float = 1.0  # first backoff of work that failed on a forge error
    retry_max_seconds: float = 300.0
    writes_per_minute: int = 80
    low_quota_coalesce_seconds: float = 30.0
    backfill_sprints: int = 6
    board_url: str | None = None
    board_session_secret: Secret | None = field(default=None, repr=False)
    board_session_hours: float = 8.0
    board_github_client: OAuthApp | None = None

    @property
    def signin_configured(self) -> bool:
        """People can sign in to the board: a session secret and at least one forge's client
        (``from_env`` refuses anything in between)."""
        return self.board_session_secret is not None and (
            self.board_github_client is not None or any(i.board_client for i in self.forgejo))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: bool = True,
                 webhook_secrets: bool = True) -> "Settings":
        """``webhook_secrets=False``: a Forgejo instance needs no webhook secret (the dry run reads,
        it receives nothing)."""
        if env is None:
            if dotenv:
                load_dotenv(Path.cwd() / ".env", override=False)  # the working directory's, as documented
            env = dict(os.environ)
        get = lambda k: (env.get(k) or "").strip() or None  # noqa: E731

        key = get("PRIVATE_KEY")
        if not key and get("PRIVATE_KEY_PATH"):
            try:
                key = Path(get("PRIVATE_KEY_PATH")).read_text()
            except OSError as exc:
                raise SettingsError(f"PRIVATE_KEY_PATH: cannot read the key file ({exc.strerror})") from None
        if key:
            key = key.replace("\\n", "\n")  # keys pasted into one-line env values

        def number(name: str, default, kind=int):
            raw = get(name)
            if raw is None:
                return default
            try:
                return kind(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a number, not {raw!r}") from None

        org_repo = get("ORG_CONFIG_REPO") or ".github"
        org_path = get("ORG_CONFIG_PATH") or "nexus.yml"
        instances = []
        if get("FORGEJO_URL"):
            instances.append(_instance(get, "default", "", org_repo, org_path, webhook_secrets))
        for name in (get("FORGEJO_INSTANCES") or "").split(","):
            if name.strip():
                instances.append(_instance(get, name.strip().lower(), name.strip().upper() + "_", org_repo, org_path,
                                           webhook_secrets))

        board_github, instances = _board_clients(get, env, instances)
        board_secret = get("BOARD_SESSION_SECRET")
        board_url = (get("BOARD_URL") or "").rstrip("/") or None
        _check_board(board_url, board_secret, board_github, instances)

        return cls(
            app_id=number("APP_ID", None),
            private_key=Secret(key) if key else None,
            webhook_secret=Secret(get("WEBHOOK_SECRET")) if get("WEBHOOK_SECRET") else None,
            github_api_url=(get("GITHUB_API_URL") or cls.github_api_url).rstrip("/"),
            github_token=Secret(get("GITHUB_TOKEN")) if get("GITHUB_TOKEN") else None,
            app_slug=get("APP_SLUG"),
            github_web_url=(get("GITHUB_WEB_URL") or cls.github_web_url).rstrip("/"),
            public_url=(get("PUBLIC_URL") or "").rstrip("/") or None,
            forgejo=tuple(instances),
            port=number("PORT", 3000),
            host=get("HOST") or "0.0.0.0",
            log_level=(get("LOG_LEVEL") or "info").lower(),
            log_format=_choice("LOG_FORMAT", get("LOG_FORMAT") or "pretty", ("pretty", "json")),
            redis_url=get("REDIS_URL"),
            lease_seconds=max(1.0, number("LEASE_SECONDS", 30.0, float)),
            metrics_port=number("METRICS_PORT", None),
            database_path=get("DATABASE_PATH") or "nexus-bot.sqlite3",
            config_path=get("NEXUS_CONFIG"),
            org_config_repo=org_repo,
            org_config_path=org_path,
            org_config_ttl_seconds=number("ORG_CONFIG_TTL_SECONDS", 300.0, float),
            config_ttl_seconds=number("CONFIG_TTL_SECONDS", 300.0, float),
            config_missing_ttl_seconds=number("CONFIG_MISSING_TTL_SECONDS", 3600.0, float),
            workers=max(1, number("WORKERS", 4)),
            coalesce_seconds=number("COALESCE_SECONDS", 2.0, float),
            delivery_ttl_hours=number("DELIVERY_TTL_HOURS", 24.0, float),
            max_body_bytes=number("MAX_BODY_BYTES", 25 * 1024 * 1024),
            max_unverified_bytes=number("MAX_UNVERIFIED_BYTES", 64 * 1024 * 1024),
            max_connections=max(1, number("MAX_CONNECTIONS", 1000)),
            header_timeout_seconds=number("HEADER_TIMEOUT_SECONDS", 10.0, float),
            body_timeout_seconds=number("BODY_TIMEOUT_SECONDS", 10.0, float),
            details_url=get("DETAILS_URL"),
            board_token=Secret(get("BOARD_TOKEN")) if get("BOARD_TOKEN") else None,
            forgejo_recheck_seconds=number("FORGEJO_RECHECK_SECONDS", 60.0, float),
            marker_keys=_marker_keys(get("MARKER_KEYS"), get("WEBHOOK_SECRET"), instances),
            retry_base_seconds=number("RETRY_BASE_SECONDS", 1.0, float),
            retry_max_seconds=number("RETRY_MAX_SECONDS", 300.0, float),
            writes_per_minute=max(0, number("WRITES_PER_MINUTE", 80)),
            low_quota_coalesce_seconds=number("LOW_QUOTA_COALESCE_SECONDS", 30.0, float),
            backfill_sprints=max(0, number("BACKFILL_SPRINTS", 6)),
            board_url=board_url,
            board_session_secret=Secret(board_secret) if board_secret else None,
            board_session_hours=_positive("BOARD_SESSION_HOURS", number("BOARD_SESSION_HOURS", 8.0, float)),
            board_github_client=board_github,
        )

    def forgejo_instance(self, name: str) -> ForgejoInstance | None:
        return next((i for i in self.forgejo if i.name == name), None)

    @property
    def verdict_link(self) -> str | None:
        """The link shown with each verdict: DETAILS_URL, else the pull request's board page."""
        if self.details_url:
            return self.details_url
        return f"{self.board_url}/board/{{where}}/{{repo}}/pull/{{number}}" if self.board_url else None


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value.lower() not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value.lower()


def _instance(get, name: str, infix: str, org_repo: str, org_path: str, webhook_secrets: bool = True) -> ForgejoInstance:
    if name == "github":  # deliveries, caches and the board tell forge instances apart by this name
        raise SettingsError("FORGEJO_INSTANCES: a Forgejo instance may not be named 'github' (GitHub's own name); "
                            "give it another name")
    url, token, secret = (get(f"FORGEJO_{infix}{k}") for k in ("URL", "TOKEN", "WEBHOOK_SECRET"))
    needed = (("URL", url), ("TOKEN", token)) + ((("WEBHOOK_SECRET", secret),) if webhook_secrets else ())
    missing = [k for k, v in needed if not v]
    if missing:
        raise SettingsError(f"Forgejo instance {name!r}: FORGEJO_{infix}{missing[0]} is not set")
    return ForgejoInstance(name, url.rstrip("/"), Secret(token), Secret(secret or ""),
                           get(f"FORGEJO_{infix}ORG_CONFIG_REPO") or org_repo,
                           get(f"FORGEJO_{infix}ORG_CONFIG_PATH") or org_path)


def _positive(name: str, value: float) -> float:
    if value <= 0:
        raise SettingsError(f"{name} must be more than 0, not {value:g}")
    return value


def _client(get, prefix: str) -> OAuthApp | None:
    """``{prefix}_CLIENT_ID`` and ``{prefix}_CLIENT_SECRET``: both, or neither."""
    client_id, secret = get(f"{prefix}_CLIENT_ID"), get(f"{prefix}_CLIENT_SECRET")
    if bool(client_id) != bool(secret):
        missing, present = ("SECRET", "ID") if client_id else ("ID", "SECRET")
        raise SettingsError(f"{prefix}_CLIENT_{missing} is not set, but {prefix}_CLIENT_{present} is: "
                            "the board's sign-in needs both")
    return OAuthApp(client_id, Secret(secret)) if client_id else None


_NAMED_FORGEJO_CLIENT = re.compile(r"BOARD_FORGEJO_(\w+?)_CLIENT_(?:ID|SECRET)")


def _board_clients(get, env: dict[str, str], instances: list[ForgejoInstance]
                   ) -> tuple[OAuthApp | None, list[ForgejoInstance]]:
    """The GitHub client, and each Forgejo instance with its client (BOARD_FORGEJO_CLIENT_ID for the
    default instance, BOARD_FORGEJO_<NAME>_CLIENT_ID for the one of FORGEJO_<NAME>_URL)."""
    names = {i.name for i in instances}
    for key in env:
        found = _NAMED_FORGEJO_CLIENT.fullmatch(key)
        if found and get(key) and found.group(1).lower() not in names:
            raise SettingsError(f"{key}: there is no Forgejo instance {found.group(1).lower()!r} "
                                "(FORGEJO_INSTANCES names them)")
    if get("BOARD_FORGEJO_CLIENT_ID") and "default" not in names:
        raise SettingsError("BOARD_FORGEJO_CLIENT_ID is set, but FORGEJO_URL is not: which instance is it for?")
    with_clients = [replace(i, board_client=_client(get, "BOARD_FORGEJO" if i.name == "default"
                                                    else f"BOARD_FORGEJO_{i.name.upper()}")) for i in instances]
    return _client(get, "BOARD_GITHUB"), with_clients


def _check_board(url: str | None, secret: str | None, github: OAuthApp | None,
                 instances: list[ForgejoInstance]) -> None:
    """Sign-in is configured fully (a secret, a forge's client, the board's address) or not at all."""
    clients = ["BOARD_GITHUB_CLIENT_ID"] * bool(github) + [
        "BOARD_FORGEJO_CLIENT_ID" if i.name == "default" else f"BOARD_FORGEJO_{i.name.upper()}_CLIENT_ID"
        for i in instances if i.board_client]
    if clients and not secret:
        raise SettingsError(f"BOARD_SESSION_SECRET is not set, but {clients[0]} is: the board's sign-in needs it "
                            "to sign its session cookies (e.g. `openssl rand -hex 32`)")
    if secret and not clients:
        raise SettingsError("BOARD_SESSION_SECRET is set, but no forge's sign-in is: set BOARD_GITHUB_CLIENT_ID "
                            "and _SECRET, or BOARD_FORGEJO_CLIENT_ID and _SECRET")
    if secret and len(secret) < 32:
        raise SettingsError("BOARD_SESSION_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)")
    if clients and not url:
        raise SettingsError(f"BOARD_URL is not set, but {clients[0]} is: the forge sends people back to "
                            "BOARD_URL/signin/…/callback")
    if url and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", url):
        raise SettingsError(f"BOARD_URL must be an http(s) address without query, e.g. https://nexus.example.org, "
                            f"not {url!r}")


def _marker_keys(listed: str | None, webhook_secret: str | None, instances: list) -> tuple[Secret, ...]:
    """MARKER_KEYS, or one key derived from the first webhook secret configured (so that a bot set up
    before MARKER_KEYS existed signs with a key nobody else has, and keeps it across restarts)."""
    if listed:
        return tuple(Secret(k.strip()) for k in listed.split(",") if k.strip())
    secret = webhook_secret or next((str(i.webhook_secret) for i in instances), None)
    if not secret:
        return ()
    return (Secret(hmac.new(secret.encode(), b"nexus-bot marker key", hashlib.sha256).hexdigest()),)
