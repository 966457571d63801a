"""Ready: may a backlog item enter a sprint? Five criteria, read from the issue's text and labels.

1. ``user-story``: "As a X, I want Y, so that Z" / "En tant que X, je veux Y, afin de Z", in one
   paragraph (it may span lines and follow a "User Story:" prefix); X, Y and Z must not be
   placeholders such as "X", "[role]" or "…".
2. ``acceptance-criteria``: at least one complete scenario: a Given or a When, then a Then. The
   Gherkin keywords are cucumber's own, in the languages ``ready.gherkin_languages`` names (English
   and French by default: "Given", "Étant donné", "Sachant que", "Soit"; "When", "Quand",
   "Lorsque"; "Then", "Alors", "Donc"; "And", "But", "Et", "Mais" and ``*`` continue a scenario),
   read at the start of a line after a bullet, emphasis or heading marker, with or without a ":"
   after them, ignoring case and accents. ``*`` is a step only where it is written as is (in code
   blocks): elsewhere a leading "* " is a markdown bullet.
3. ``estimate``: story points on ``ready.scale``. A ``points:N`` label wins over an "Estimation: N
   points" line (or heading, or "N SP"); when both are there and disagree the reason says so.
4. ``dependencies``: linked items ("Depends on #44", "Bloque #45", an issue URL), or links the forge
   records (GitHub's "blocked by" / "blocking" and sub-issues, Forgejo's dependencies: in
   ``Issue.native_links``), or teams named on a "Teams:" line, or a dependencies line naming a team,
   or an explicit "Dependencies: none".
5. ``testable``: at least one complete scenario, and every scenario has a Then. A scenario starts at a
   "Scenario:" header or at a Given (or When) after the previous one's steps; a lone Given or When
   line outside any header is read as prose, not as a scenario.

Everything worded lives in ``config.ready`` (see config/dod.yml): the keywords of every language
(and the Gherkin keywords of every configured Gherkin language) are tried on every issue; the
config's ``language``, or when it is not set the language detected in the issue, only chooses the
wording of the answer. HTML comments (template hints) are ignored; code blocks are read (Gherkin is
often written in ```gherkin blocks), except for links (see ``links.py``). The body is read once
(``issue_body``), by the criteria and by triage alike. Pure and linear in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from ..model import Issue
from .issue_body import _PARENS, MAX_LINE, Body, read_body
from .links import Link, extract_links
from .ready_rules import DETECT_CHARS, Rules, detect_language, matches, named_teams, rules, step_kind, teams_in
from .patterns import Text
from .text import fold

if TYPE_CHECKING:
    from ..config import Config

# ----- the verdict ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionResult:
    id: str  # user-story | acceptance-criteria | estimate | dependencies | testable
    title: str
    passed: bool
    reason: str
    example: str  # the expected form, in the issue's language


@dataclass
class ReadyVerdict:
    language: str
    criteria: list[CriterionResult]
    points: int | None = None  # the estimate that counts, when it is on the scale
    dependencies: list[Link] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)  # config team keys named on a "Teams:" line

    @property
    def ready(self) -> bool:
        return all(c.passed for c in self.criteria)

    def missing(self) -> list[CriterionResult]:
        return [c for c in self.criteria if not c.passed]

    def criterion(self, cid: str) -> CriterionResult:
        return next(c for c in self.criteria if c.id == cid)


def ready_labels(verdict: ReadyVerdict, config: "Config") -> tuple[set[str], set[str]]:
    """(labels to add, labels to remove): exactly one of the ready and needs-refinement labels."""
    ready, refine = config.labels.ready, config.labels.needs_refinement
    return ({ready}, {refine}) if verdict.ready else ({refine}, {ready})


# ----- criteria ----------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"^(?:\[[^\]]*\]|<[^>]*>|\{[^}]*\}|\w|\.{2,}|…|_+|x+|y+|z+)?$", re.IGNORECASE)
_SENTENCE_OPENERS = set(".:;!?>-*|([\"'«“—–")


def _placeholder(text: str) -> bool:
    if len(text) > 200:
        return False
    core = text.strip(" \t,;.:!?-–—\"'«»“”*_")
    return _PLACEHOLDER.match(core) is not None


def _opens_sentence(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and start - i < 12 and text[i].isspace():
        i -= 1
    return i < 0 or text[i] in _SENTENCE_OPENERS


def _story_stage(paragraph: str, patterns: Rules) -> int:
    """3: a complete story; 2: a role and a want, no benefit; 1: a role alone; 0: nothing. Parts
    that are placeholders ("As a X", "I want [goal]", "so that …") do not count."""
    best = 0
    for role_re, want_re, benefit_re in patterns.story:
        if role_re is None or want_re is None or benefit_re is None:
            continue
        text = Text(paragraph)
        roles = (m for m in role_re.finditer(text) if _opens_sentence(paragraph, m.start))
        for role in islice(roles, 20):
            want = want_re.search(text, role.end)
            if want is None:
                if not _placeholder(paragraph[role.end: role.end + 201]):
                    best = max(best, 1)
                continue
            if _placeholder(paragraph[role.end: want.start]):
                continue
            best = max(best, 2)
            benefit = benefit_re.search(text, want.end)
            if (
                benefit is not None
                and not _placeholder(paragraph[want.end: benefit.start])
                and not _placeholder(paragraph[benefit.end: benefit.end + 201])
            ):
                return 3
    return best


@dataclass
class Scenario:
    header: str | None = None
    first: str = ""
    given: int = 0
    when: int = 0
    then: int = 0
    steps: int = 0

    @property
    def real(self) -> bool:
        """A header or two steps make a scenario; a lone Given or When line is prose."""
        return self.header is not None or self.steps >= 2

    @property
    def complete(self) -> bool:
        return bool(self.given or self.when) and bool(self.then)

    def name(self) -> str:
        text = self.header or self.first
        return text if len(text) <= 60 else text[:59] + "…"


def scenarios(body: Body, patterns: Rules) -> list[Scenario]:
    found: list[Scenario] = []
    cur: Scenario | None = None
    background = False

    def start(text: str, header: str | None = None) -> Scenario:
        s = Scenario(header=header, first=text)
        found.append(s)
        return s

    for line in body.lines:
        m = patterns.step.match(line.folded) if line.text else None
        if m is None:
            if line.heading:
                cur, background = None, False
            continue
        kind = step_kind(m.group)
        rest = line.text[m.end:].lstrip(" :-–—")
        if kind == "scenario":
            cur, background = start(line.text, header=line.text), False
            continue
        if kind == "background":
            cur, background = None, True
            continue
        if _placeholder(rest):
            continue
        steps = [kind] + [step_kind(s.group) for s in patterns.inline_step.finditer(line.folded, m.end)]
        for step in steps:
            if step == "given":
                if background:
                    continue
                if cur is None or cur.when or cur.then:
                    cur = start(line.text)
                cur.given += 1
            elif step == "when":
                background = False
                if cur is None or cur.then:
                    cur = start(line.text)
                cur.when += 1
            elif step == "then":
                background = False
                if cur is None:
                    cur = start(line.text)
                cur.then += 1
            elif cur is None or background:
                continue
            cur.steps += 1
    return found


_NUMBER = re.compile(r"(?<![\d.,])(\d{1,6})(?:[.,](\d{1,3}))?(?!\d)")


def _number(value: str) -> tuple[int | None, str | None]:
    """(integer, as written) of the first number in ``value``; (None, written) when not whole."""
    m = _NUMBER.search(value)
    if m is None:
        return None, None
    whole, frac = m.group(1), m.group(2)
    if frac and frac.strip("0"):
        return None, m.group(0)
    return int(whole), whole.lstrip("0") or "0"


@dataclass
class Estimate:
    passed: bool
    reason_key: str
    values: dict[str, str]
    points: int | None = None
    conflict: dict[str, str] | None = None


def read_estimate(issue: Issue, body: Body, config: "Config") -> Estimate:
    """The label wins over the text; a line (or heading) wins over an inline "5 SP"."""
    patterns, scale = rules(config), config.ready.scale
    scale_text = ", ".join(map(str, scale))
    prefix = config.labels.points_prefix
    label_name, label_value = None, None
    for name in issue.labels:
        if name.lower().startswith(prefix.lower()):
            label_name, label_value = name, name[len(prefix):].strip()
            break
    line_value: str | None = None
    for f in body.fields:
        if f.values and matches(patterns.estimate_field, f.label):
            line_value = f.values[0]
            break
    if line_value is None and patterns.estimate_inline:
        teams_lines = {f.line for f in body.fields if matches(patterns.teams_field, f.label)}
        text = "\n".join(line.folded for i, line in enumerate(body.lines) if i not in teams_lines)
        found = [m for p in patterns.estimate_inline if (m := p.search(text))]
        if found:
            line_value = min(found, key=lambda m: m.start()).group("points")
    line_number, line_written = _number(line_value) if line_value is not None else (None, None)

    if label_name is not None:
        number, written = _number(label_value or "")
        if not _NUMBER.fullmatch(label_value or ""):
            result = Estimate(False, "unreadable", {"value": label_name})
        elif number in scale:
            result = Estimate(True, "ok_label", {"points": str(number), "label": label_name}, points=number)
        else:
            result = Estimate(False, "off_scale", {"value": written, "scale": scale_text})
        if line_written is not None and line_written != written:
            result.conflict = {"label": label_name, "line": line_written}
        return result
    if line_value is None:
        return Estimate(False, "missing", {"prefix": prefix})
    if line_written is None:
        return Estimate(False, "unreadable", {"value": _short(line_value, 40)})
    if line_number in scale:
        return Estimate(True, "ok", {"points": str(line_number)}, points=line_number)
    return Estimate(False, "off_scale", {"value": line_written, "scale": scale_text})


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _states_none(body: Body, patterns: Rules) -> bool:
    """A whole line says there is no dependency ("No dependencies.", "Aucune dépendance")."""
    if patterns.none_statement is None:
        return False
    return any(
        patterns.none_line.match(line.folded) and matches(patterns.none_statement, _plain_value(line.folded))
        for line in body.lines if 0 < len(line.text) <= 100
    )


def _plain_value(text: str) -> str:
    """A value as compared with the "none" phrases: no accents, parentheses, final full stop."""
    return " ".join(_PARENS.sub(" ", fold(text)).split()).rstrip(".!").strip()


def _short_ref(repo: str, number: int, home: str) -> str:
    return f"#{number}" if repo == home else f"{repo}#{number}"


@dataclass
class Dependencies:
    passed: bool
    reason_key: str
    values: dict[str, str]
    links: list[Link]
    teams: list[str]


def read_dependencies(issue: Issue, body: Body, config: "Config", texts: dict[str, str]) -> Dependencies:
    patterns = rules(config)
    links = [
        link for link in extract_links(body.text, config, repo=issue.repo)
        if not (link.repo is None and link.number == issue.number)
    ]
    teams = named_teams(body, config)
    dep_fields = [f for f in body.fields if matches(patterns.deps_field, f.label)]
    dep_values = [v for f in dep_fields for v in f.values]
    dep_teams = teams_in(dep_values, config)
    none = any(matches(patterns.none_value, _plain_value(v)) for v in dep_values) or _states_none(body, patterns)
    parts = []
    for kind, reason in (("depends_on", "depends_on"), ("blocks", "blocks"), ("parent", "parent"), ("sub_issue", "sub_issues")):
        written = [link.ref for link in links if link.kind == kind]
        native = [_short_ref(n.repo, n.number, issue.repo) for n in issue.native_links if n.kind == kind]
        refs = list(dict.fromkeys(written + native))
        if refs:
            parts.append(texts[reason].format(refs=", ".join(refs)))
    named = teams + [t for t in dep_teams if t not in teams]
    if named:
        parts.append(texts["teams"].format(teams=", ".join(config.team_name(t) for t in named)))
    if none and not parts:
        parts.append(texts["none"])
    if parts:
        return Dependencies(True, "ok", {"summary": "; ".join(parts)}, links, teams)
    unclear = next((v for v in dep_values if v.strip()), None)
    if unclear is not None:
        return Dependencies(False, "unclear", {"value": _short(unclear, 60)}, links, teams)
    return Dependencies(False, "missing", {}, links, teams)


# ----- the evaluation -----------------------------------------------------------------------------------

def evaluate_ready(issue: Issue, config: "Config", body: Body | None = None) -> ReadyVerdict:
    """Judge a backlog item against the five Ready criteria. Never raises on any text."""
    patterns = rules(config)
    ready = config.ready
    body = read_body(issue.body) if body is None else body
    title = (issue.title or "")[:MAX_LINE]
    if config.language in ready.languages:  # the organisation (or repository) chose its language
        language = config.language
    else:  # none chosen: answer in the issue's own language
        language = detect_language(f"{title}\n{body.text.without_comments[: DETECT_CHARS * 2]}", config)
    lang = ready.languages[language]
    shared = {"prefix": config.labels.points_prefix, "scale": ", ".join(map(str, ready.scale))}

    def result(cid: str, passed: bool, key: str, values: dict | None = None, extra: str = "") -> CriterionResult:
        text = lang.criteria[cid]
        reason = text.reasons[key].format(**(values or {}))
        return CriterionResult(
            cid, text.title.format(**shared), passed, f"{reason} {extra}".strip(), text.example.format(**shared)
        )

    paragraphs = [fold(title), *body.paragraphs()]
    stage = max((_story_stage(p, patterns) for p in paragraphs), default=0)
    story = result("user-story", stage == 3, {3: "ok", 2: "no_benefit", 1: "no_want", 0: "missing"}[stage])

    found = scenarios(body, patterns)
    complete = [s for s in found if s.complete]
    if complete:
        criteria = result("acceptance-criteria", True, "ok", {"count": str(len(complete))})
    elif any(s.real and (s.given or s.when) for s in found):
        criteria = result("acceptance-criteria", False, "no_then")
    else:
        criteria = result("acceptance-criteria", False, "missing")

    lacking = [s for s in found if s.real and not s.then]
    if lacking:
        names = "; ".join(s.name() for s in lacking[:5]) + (" …" if len(lacking) > 5 else "")
        testable = result("testable", False, "no_then", {"scenarios": names})
    elif not complete:
        testable = result("testable", False, "no_scenario")
    else:
        testable = result("testable", True, "ok", {"count": str(len([s for s in found if s.real]))})

    est = read_estimate(issue, body, config)
    conflict = lang.criteria["estimate"].reasons["conflict"].format(**est.conflict) if est.conflict else ""
    estimate = result("estimate", est.passed, est.reason_key, est.values, conflict)

    deps = read_dependencies(issue, body, config, lang.criteria["dependencies"].reasons)
    dependencies = result("dependencies", deps.passed, deps.reason_key, deps.values)

    return ReadyVerdict(
        language=language,
        criteria=[story, criteria, estimate, dependencies, testable],
        points=est.points,
        dependencies=deps.links,
        teams=deps.teams,
    )
