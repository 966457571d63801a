"""Small builders for forge-neutral snapshots, shared by the rule tests."""

from __future__ import annotations

from bot.config import Config, default_config_text, load_config
from bot.forges.github import read_codeowners
from bot.model import ChangedFile, CheckResult, PullRequest, Review, ReviewState

_DEFAULT: Config | None = None


def default_config() -> Config:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_config(default_config_text())
    return _DEFAULT


def config_with(yaml_text: str) -> Config:
    return load_config(default_config_text(), (".github/nexus.yml", yaml_text))


def pr(files=(), body="", labels=(), checks=(), reviews=(), author="alice", head_sha="head1", base_ref="main",
       codeowners=None, comments=()) -> PullRequest:
    return PullRequest(
        forge="github", repo="org/app", number=7, title="feat: approval e-mail", body=body, author=author,
        base_ref=base_ref, head_ref="feature", head_sha=head_sha, labels=tuple(labels),
        files=tuple(ChangedFile(f) if isinstance(f, str) else f for f in files),
        checks=tuple(checks), reviews=tuple(reviews), comments=tuple(comments),
        codeowners=read_codeowners(codeowners) if isinstance(codeowners, str) else codeowners,
    )


def ok(name: str, text: str = "", conclusion: str = "success", id: int = 1) -> CheckResult:
    return CheckResult(name=name, status="completed", conclusion=conclusion, text=text, id=id)


def running(name: str) -> CheckResult:
    return CheckResult(name=name, status="in_progress")


def review(user: str, state: str, sha: str | None = "head1") -> Review:
    return Review(author=user, state=ReviewState(state), commit_sha=sha)
