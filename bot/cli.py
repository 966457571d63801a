"""The command line: ``nexus-bot serve``, ``nexus-bot check``, ``nexus-bot config check``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys

from .config import ConfigError, default_config_text, load_config
from .service.settings import DOCUMENTED, Settings, SettingsError, settings_table

SERVE_EPILOG = "settings (environment variables, or a .env file in the working directory):\n" + "\n".join(
    f"  {name:<24} {meaning}" for name, meaning in DOCUMENTED
)

PR_REF = re.compile(r"^(?:https?://[^/]+/)?([\w.-]+/[\w.-]+)(?:#|/pulls?/)(\d+)/?$")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nexus-bot", description="Enforces the Nexus Definition of Done.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="run the webhook server and its workers",
        description="Run the webhook server (POST /webhooks/github, /webhooks/forgejo[/NAME]; GET /healthz, "
        "/readyz, /metrics in Prometheus' format, /metrics.json).",
        epilog=SERVE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--role", choices=["all", "web", "worker"], default="all",
                       help="all (default): one process does everything; web / worker: split them over "
                       "processes sharing the store (DATABASE_PATH on one host, or REDIS_URL anywhere); a worker "
                       "binds no web port (METRICS_PORT: its /metrics, /healthz, /readyz)")
    check = sub.add_parser(
        "check", help="evaluate a live pull request and print the verdict; posts nothing",
        description="Dry run: evaluate OWNER/REPO#N (or a PR URL) with GITHUB_TOKEN (GitHub) or the "
        "FORGEJO_* settings (--forgejo), print the verdict, post nothing.",
    )
    check.add_argument("pr", help="OWNER/REPO#N or https://github.com/OWNER/REPO/pull/N")
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    check.add_argument("--config", help="an organisation config to try instead of the configured one")
    check.add_argument("--forgejo", action="store_true", help="the PR is on the configured Forgejo instance")
    backfill = sub.add_parser(
        "backfill", help="read an owner's past sprints from the forge into the Nexus metrics' history",
        description="Read the issues and pull requests of OWNER updated in the current sprint and the N "
        "previous ones (and the deployments of the repositories that merged) into the store the bot uses "
        "(DATABASE_PATH or REDIS_URL). Resumable: run it again after a crash and it goes on after the last "
        "finished sprint; safe while the bot runs.",
    )
    backfill.add_argument("owner", help="the organisation (or user) whose repositories to read")
    backfill.add_argument("--sprints", type=int, default=None,
                          help="previous sprints to read besides the current one (default: BACKFILL_SPRINTS, or 6)")
    backfill.add_argument("--forgejo", nargs="?", const="default", default=None, metavar="INSTANCE",
                          help="the owner is on this configured Forgejo instance (default: GitHub)")
    backfill.add_argument("--again", action="store_true", help="read every sprint again, even those already read")
    sub.add_parser("settings", help="print every setting and what it means (the README's table)")
    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    cc = config_sub.add_parser(
        "check", help="validate config files; exit 1 with file:line: field: message on error",
        description="Validate an organisation config, or a repository's .github/nexus.yml merged over the "
        "organisation config (--org, default the embedded one).",
    )
    cc.add_argument("files", nargs="+")
    cc.add_argument("--org", help="organisation config the repository files extend (default: embedded)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "settings":
        print(settings_table(), end="")
        return 0
    if args.command == "config":
        return config_check(args.files, args.org)
    try:
        settings = Settings.from_env(webhook_secrets=args.command == "serve")
    except SettingsError as exc:
        print(f"nexus-bot: {exc}", file=sys.stderr)
        return 2
    if args.command == "backfill":
        from .service.backfill_command import run_backfill

        return asyncio.run(run_backfill(settings, args.owner, args.sprints, args.forgejo, args.again))
    if args.command == "serve":
        from .service.server import run, serve, setup_logging

        setup_logging(settings.log_level, settings.log_format)
        try:
            run(serve(settings, args.role))
        except ConfigError as exc:
            print(f"nexus-bot: the organisation config cannot be used: {exc}", file=sys.stderr)
            return 2
        return 0
    return asyncio.run(dry_run(settings, args))


def config_check(files: list[str], org: str | None) -> int:
    try:
        org_source = _read(org) if org else default_config_text()
        load_config(org_source)
    except ConfigError as exc:
        _print_errors(exc)
        return 1
    status = 0
    for name in files:
        try:
            source = _read(name)
            is_org = "items" in source[1] and "categories" in source[1] and not org
            config = load_config(source) if is_org else load_config(org_source, source)
            for notice in config.notices:
                print(f"warning: {notice}", file=sys.stderr)
            print(f"{name}: ok")
        except ConfigError as exc:
            _print_errors(exc)
            status = 1
    return status


def _print_errors(exc: ConfigError) -> None:
    """Every error of the file, one per line."""
    for error in exc.errors:
        print(error, file=sys.stderr)


def _read(path: str) -> tuple[str, str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return (path, handle.read())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, None, f"cannot read the file ({exc})") from None


async def dry_run(settings: Settings, args: argparse.Namespace) -> int:
    from .app.cached_reads import CachedReads
    from .app.dod import assess
    from .app.report import title
    from .forges.base import ForgeError
    from .markers import Signer

    logging.basicConfig(level=logging.ERROR)  # retries are not news on a command line; the outcome is
    m = PR_REF.match(args.pr.strip())
    if not m:
        print(f"nexus-bot: {args.pr!r} is not OWNER/REPO#N or a pull request URL", file=sys.stderr)
        return 2
    repo, number = m.group(1), int(m.group(2))
    if args.forgejo:
        from .forges.forgejo import ForgejoForge

        if not settings.forgejo:
            print("nexus-bot: set FORGEJO_URL and FORGEJO_TOKEN", file=sys.stderr)
            return 2
        inst = settings.forgejo[0]
        forge, where = ForgejoForge(inst.url, inst.token), inst.name
    else:
        from .forges.github import GitHubForge

        if not settings.github_token:
            print("nexus-bot: set GITHUB_TOKEN to read the pull request", file=sys.stderr)
            return 2
        forge = GitHubForge.from_token(settings.github_token, api_url=settings.github_api_url)
        where = forge.name
    try:
        cached = CachedReads(_read(args.config) if args.config else _org_source(settings),
                             org_from_repositories=not args.config)
        a = await assess(forge, where, cached, repo, number, signer=Signer(settings.marker_keys))
    except ConfigError as exc:
        _print_errors(exc)
        return 1
    except ForgeError as exc:  # a 401, a 404, an API out of reach: one line, no traceback
        hint = {401: " (check the token)", 403: " (the token may not read this repository)",
                404: " (no such pull request, or the token cannot see it)"}.get(exc.status, "")
        if exc.status is None:
            hint = f" (cannot reach {settings.forgejo[0].url if args.forgejo else settings.github_api_url})"
        print(f"nexus-bot: {exc}{hint}", file=sys.stderr)
        return 1
    finally:
        await forge.aclose()
    if args.json:
        print(json.dumps(a.verdict.as_json(), indent=2, ensure_ascii=False))
    else:
        from .locales import localize

        language = a.config.lang if a.config else "en"  # the repository's language, as its report
        print(f"{repo}#{number} @ {a.pr.head_sha[:12]}: {a.verdict.state.value} — {title(a.verdict, language)}\n")
        for item in a.verdict.items:
            print(f"  {item.state.value:<15} {item.id:<26} {localize(item.reason, language)}")
            if item.action:
                print(f"  {'':<15} {'':<26} → {localize(item.action, language)}")
    return 0


def _org_source(settings: Settings) -> tuple[str, str]:
    from .service.server import org_config_source

    return org_config_source(settings)


if __name__ == "__main__":
    sys.exit(main())
