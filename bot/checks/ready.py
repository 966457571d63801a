"""Ready: may a backlog item enter a sprint? Five criteria, read from the issue's text and labels.

1. ``user-story``: "As a X, I want Y, so that Z" / "En tant que X, je veux Y, afin de Z", in one
   paragraph (it may span lines and follow a "User Story:" prefix); X, Y and Z must not be
   placeholders such as "X", "[role]" or "…".
2. ``acceptance-criteria``: at least one complete scenario: a Given or a When, then a Then.
3. ``estimate``: story points on ``ready.scale``. A ``points:N`` label wins over an "Estimation: N
   points" line (or heading, or "N SP"); when both are there and disagree the reason says so.
4. ``dependencies``: linked items ("Depends on #44", "Bloque #45", an issue URL), or teams named on a
   "Teams:" line, or a dependencies line naming a team, or an explicit "Dependencies: none".
5. ``testable``: at least one complete scenario, and every scenario has a Then. A scenario starts at a
   "Scenario:" header or at a Given (or When) after the previous one's steps; a lone Given or When
   line outside any header is read as prose, not as a scenario.

Everything worded lives in ``config.ready`` (see config/dod.yml): the keywords of every language
are tried on every issue; the language detected only chooses the wording of the answer. HTML
comments (template hints) are ignored; fenced code blocks are read (Gherkin is often written in
```gherkin blocks), except for links (see ``links.py``). Pure and linear in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

from ..config import Config, ReadyLanguage
from ..model import Issue
from .links import FENCE, Link, extract_links, fold, strip_comments, word_pattern

MAX_LINES = 50_000  # a body is read up to this many lines (GitHub caps bodies at 65,536 characters)
MAX_LINE = 10_000  # and a line up to this many characters
DETECT_CHARS = 20_000  # the language is guessed from the title and this much of the body
MARKER_WEIGHT = 3

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


def ready_labels(verdict: ReadyVerdict, config: Config) -> tuple[set[str], set[str]]:
    """(labels to add, labels to remove): exactly one of the ready and needs-refinement labels."""
    ready, refine = config.labels.ready, config.labels.needs_refinement
    return ({ready}, {refine}) if verdict.ready else ({refine}, {ready})


# ----- reading markdown ----------------------------------------------------------------------------

_QUOTE = re.compile(r"^(?:\s*>)+\s*")
_HEADING = re.compile(r"^#{1,6}(?=\s|$)")
_ITEM = re.compile(r"^(?:[-*+•]|\d{1,3}[.)])\s+")
_BOX = re.compile(r"^\[([ xX✓✔])\]\s*")
_EMPHASIS = re.compile(r"(?<!\w)[*_]+|[*_]+(?!\w)|~~|`")
_PARENS = re.compile(r"\([^)]{0,80}\)")
_NO_RESPONSE = re.compile(r"(?i)^no response$")


class Line(NamedTuple):
    text: str  # without markdown markup
    folded: str  # ``text`` without accents
    heading: bool = False
    item: bool = False  # a list item
    checked: bool | None = None  # a task-list item: ticked or not
    code: bool = False  # inside a fenced code block
    label: str | None = None  # "Label" of a "Label: value" line, normalised


@dataclass(frozen=True)
class FieldValue:
    """A "Label: value" line, or a heading with the text under it (issue-form output)."""

    label: str  # folded, without markup and parentheses
    values: tuple[str, ...]
    line: int


@dataclass
class Body:
    lines: list[Line]
    fields: list[FieldValue]

    def paragraphs(self) -> list[str]:
        """Folded paragraphs, lines joined with spaces; headings stand alone."""
        out, cur = [], []
        for line in self.lines:
            if line.heading or not line.text:
                if cur:
                    out.append(" ".join(cur))
                    cur = []
                if line.heading and line.text:
                    out.append(line.folded)
            else:
                cur.append(line.folded)
        if cur:
            out.append(" ".join(cur))
        return out


def normalise_label(text: str) -> str:
    """ "**Équipes (impliquées)** :" -> "equipes": folded, lower case, no parentheses, no edge symbols."""
    words = _PARENS.sub(" ", fold(text[:200])).split()
    start, end = 0, len(words)
    while start < end and not any(c.isalnum() for c in words[start]):
        start += 1
    while end > start and not any(c.isalnum() for c in words[end - 1]):
        end -= 1
    label = " ".join(words[start:end])
    i, j = 0, len(label)
    while i < j and not label[i].isalnum():
        i += 1
    while j > i and not label[j - 1].isalnum():
        j -= 1
    return label[i:j].lower()


def _label(text: str) -> str | None:
    colon = text.find(":")
    if 0 < colon <= 40 and text[colon + 1: colon + 3] != "//":
        candidate = normalise_label(text[:colon])
        if candidate and any(c.isalpha() for c in candidate):
            return candidate
    return None


_BLANK, _BLANK_CODE = Line("", ""), Line("", "", code=True)
_MARKUP = re.compile(r"[*_~`:]")
_OPENERS = frozenset(">#-*+•[0123456789")


def _line(raw: str, code: bool) -> Line:
    s = raw.strip()
    if not s:
        return _BLANK_CODE if code else _BLANK
    if code:
        if s[0] == "#":  # a Gherkin (or shell) comment
            return _BLANK_CODE
        return Line(s, fold(s), code=True, label=_label(s) if ":" in s else None)
    if s[0] not in _OPENERS and not _MARKUP.search(s):
        return Line(s, fold(s))  # plain prose, the common case
    heading = item = False
    checked = None
    if s[0] == ">":
        s = _QUOTE.sub("", s)
    if s[:1] == "#" and (m := _HEADING.match(s)):
        heading, s = True, s[m.end():].strip().rstrip("#").strip()
    if s[:1] in ("-", "*", "+", "•") or s[:1].isdigit():
        if m := _ITEM.match(s):
            item, s = True, s[m.end():]
    if s[:1] == "[" and (m := _BOX.match(s)):
        checked, s = m.group(1) != " ", s[m.end():]
    s = _EMPHASIS.sub("", s)
    text = s.strip()
    label = _label(text) if not heading and ":" in text[:41] else None
    return Line(text, fold(text), heading, item, checked, False, label)


def read_body(text: str | None) -> Body:
    """The body's lines without markup, and its fields."""
    lines: list[Line] = []
    fenced = False
    for raw in strip_comments(text or "").splitlines()[:MAX_LINES]:
        if raw[:4].lstrip(" ")[:1] in ("`", "~") and FENCE.match(raw):
            fenced = not fenced
            lines.append(_BLANK)
            continue
        lines.append(_line(raw[:MAX_LINE], fenced))
    return Body(lines, _fields(lines))


def _usable(line: Line) -> bool:
    return bool(line.text) and line.checked is not False and not _NO_RESPONSE.match(line.text)


def _empty_label(line: Line) -> bool:
    """ "Estimation:" with nothing after it: a field of its own, not a value."""
    return line.label is not None and not line.text[line.text.find(":") + 1:].strip()


def _fields(lines: list[Line]) -> list[FieldValue]:
    out: list[FieldValue] = []
    n = len(lines)
    for i, line in enumerate(lines):
        if line.heading and line.text:
            values, j = [], i + 1
            while j < n and not lines[j].heading:
                if _usable(lines[j]) and not _empty_label(lines[j]) and len(values) < 50:
                    values.append(lines[j].text)
                j += 1
            out.append(FieldValue(normalise_label(line.text), tuple(values), i))
        elif line.label is not None:
            value = line.text[line.text.find(":") + 1:].strip()
            if value:
                out.append(FieldValue(line.label, (value,), i))
                continue
            values, j = [], i + 1
            while j < n and j <= i + 3 and not lines[j].text and not lines[j].heading:
                j += 1
            while j < n and j <= i + 40 and lines[j].item and not lines[j].heading:
                if _usable(lines[j]):
                    values.append(lines[j].text)
                j += 1
            if not values and j < n and _usable(lines[j]) and not lines[j].heading and lines[j].label is None:
                values.append(lines[j].text)
            out.append(FieldValue(line.label, tuple(values), i))
    return out


# ----- compiled rules, once per config ---------------------------------------------------------------

def _full(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fold(p)})" for p in patterns), re.IGNORECASE)


def _step_pattern(langs: list[ReadyLanguage]) -> re.Pattern[str]:
    def group(name: str, words: list[str], header: bool = False) -> str:
        alts = "|".join(f"(?:{fold(w)})" for w in words) or "(?!)"
        tail = r"\s*:" if header else r"(?:(?<=')|(?!\w))"
        return f"(?P<{name}>(?:{alts}){tail})"

    s = [lang.scenario for lang in langs]
    groups = [
        group("scenario", [w for x in s for w in x.scenario], header=True),
        group("background", [w for x in s for w in x.background], header=True),
        group("given", [w for x in s for w in x.given]),
        group("when", [w for x in s for w in x.when]),
        group("then", [w for x in s for w in x.then]),
        group("continuation", [w for x in s for w in x.continuation]),
    ]
    return re.compile("^(?:" + "|".join(groups) + ")", re.IGNORECASE)


def _inline_step_pattern(langs: list[ReadyLanguage]) -> re.Pattern[str]:
    s = [lang.scenario for lang in langs]
    joins = "|".join(f"(?:{fold(w)})" for x in s for w in x.continuation) or "(?!)"
    when = "|".join(f"(?:{fold(w)})" for x in s for w in x.when)
    then = "|".join(f"(?:{fold(w)})" for x in s for w in x.then)
    return re.compile(
        rf"[,;]\s*(?:(?:{joins})\s+)?(?:(?P<when>{when})|(?P<then>{then}))(?:(?<=')|(?!\w))", re.IGNORECASE
    )


class Rules:
    """The config's patterns, compiled."""

    def __init__(self, config: Config):
        ready = config.ready
        langs = list(ready.languages.values())
        self.story = [
            (word_pattern(lang.story.role), word_pattern(lang.story.want), word_pattern(lang.story.benefit))
            for lang in langs
        ]
        self.step = _step_pattern(langs)
        self.inline_step = _inline_step_pattern(langs)
        self.teams_field = _full([p for lang in langs for p in lang.teams])
        self.estimate_field = _full([p for lang in langs for p in lang.estimate.fields])
        self.estimate_inline = [re.compile(fold(p), re.IGNORECASE) for lang in langs for p in lang.estimate.inline]
        self.deps_field = _full([p for lang in langs for p in lang.dependencies.fields])
        self.none_value = _full([p for lang in langs for p in lang.dependencies.none])
        self.none_statement = _full([p for lang in langs for p in lang.dependencies.none_statements])
        self.none_line = re.compile(  # lines that may be a none statement: filtered cheaply, then matched
            r"^(?:" + "|".join(f"(?:{fold(p)})" for lang in langs for p in lang.dependencies.none_statements)
            + r")\b[^\n]*$" if self.none_statement else r"(?!)", re.IGNORECASE | re.MULTILINE
        )
        self.type_field = _full(ready.triage.type_fields)
        self.priority_field = _full(ready.triage.priority_fields)
        self.detect = {
            key: (word_pattern(lang.detect.markers), word_pattern(lang.detect.words), frozenset(lang.detect.letters))
            for key, lang in ready.languages.items()
        }
        self.teams = [
            (key, re.compile(
                r"(?<![\w-])(?:" + "|".join(re.escape(fold(n)) for n in _team_names(config, key)) + r")(?![\w-])",
                re.IGNORECASE,
            ))
            for key in config.teams
        ]


def _team_names(config: Config, key: str) -> list[str]:
    names = {key, config.team_name(key), config.team_label(key)}
    return sorted(names, key=len, reverse=True)


_RULES: dict[int, tuple[Config, Rules]] = {}


def rules(config: Config) -> Rules:
    hit = _RULES.get(id(config))
    if hit is None or hit[0] is not config:
        if len(_RULES) > 16:
            _RULES.clear()
        hit = (config, Rules(config))
        _RULES[id(config)] = hit
    return hit[1]


def matches(pattern: re.Pattern[str] | None, text: str) -> bool:
    return pattern is not None and pattern.fullmatch(text) is not None


# ----- shared readings (also used by triage) ---------------------------------------------------------

# URLs and org/repo#12 name no team; each alternative starts only where a run of its characters starts
_REFERENCE = re.compile(r"(?<![\w+.-])[a-z][\w+.-]*://\S*|(?<![\w.-])[\w.-]+/[\w.-]+#\d+", re.IGNORECASE)


def teams_in(values: list[str] | tuple[str, ...], config: Config) -> list[str]:
    """The config team keys named in ``values``, in order of first mention."""
    found: list[tuple[int, int, str]] = []
    for v, value in enumerate(values):
        folded = _REFERENCE.sub(" ", fold(value))
        for key, pattern in rules(config).teams:
            m = pattern.search(folded)
            if m:
                found.append((v, m.start(), key))
    seen: list[str] = []
    for _, _, key in sorted(found):
        if key not in seen:
            seen.append(key)
    return seen


def named_teams(body: Body, config: Config) -> list[str]:
    """The teams named on the "Teams:" / "Équipes :" lines (or headings)."""
    pattern = rules(config).teams_field
    values = [v for f in body.fields if matches(pattern, f.label) for v in f.values]
    return teams_in(values, config)


def detect_language(text: str, config: Config) -> str:
    """The configured language scoring highest: 3 per marker phrase ("en tant que", "given"), 1 per
    common word, 1 per characteristic letter ("é"); the default language when nothing scores, the
    first configured language on a tie."""
    sample = text[:DETECT_CHARS]
    folded = fold(sample)
    best, best_score = config.ready.default_language, 0
    for key, (markers, words, letters) in rules(config).detect.items():
        score = MARKER_WEIGHT * _count(markers, folded) + _count(words, folded)
        score += sum(1 for c in sample if c in letters) if letters else 0
        if score > best_score:
            best, best_score = key, score
    return best


def _count(pattern: re.Pattern[str] | None, text: str) -> int:
    return 0 if pattern is None else sum(1 for _ in pattern.finditer(text))


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
        roles = (m for m in role_re.finditer(paragraph) if _opens_sentence(paragraph, m.start()))
        for role in islice(roles, 20):
            want = next(want_re.finditer(paragraph, role.end()), None)
            if want is None:
                if not _placeholder(paragraph[role.end(): role.end() + 201]):
                    best = max(best, 1)
                continue
            if _placeholder(paragraph[role.end(): want.start()]):
                continue
            best = max(best, 2)
            benefit = next(benefit_re.finditer(paragraph, want.end()), None)
            if (
                benefit is not None
                and not _placeholder(paragraph[want.end(): benefit.start()])
                and not _placeholder(paragraph[benefit.end(): benefit.end() + 201])
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
        kind = m.lastgroup
        rest = line.text[m.end():].lstrip(" :-–—")
        if kind == "scenario":
            cur, background = start(line.text, header=line.text), False
            continue
        if kind == "background":
            cur, background = None, True
            continue
        if _placeholder(rest):
            continue
        steps = [kind] + [s.lastgroup for s in patterns.inline_step.finditer(line.folded, m.end())]
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


def read_estimate(issue: Issue, body: Body, config: Config) -> Estimate:
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
    short = "\n".join(line.folded for line in body.lines if 0 < len(line.text) <= 100)
    return any(matches(patterns.none_statement, _plain_value(m.group())) for m in patterns.none_line.finditer(short))


def _plain_value(text: str) -> str:
    """A value as compared with the "none" phrases: no accents, parentheses, final full stop."""
    return " ".join(_PARENS.sub(" ", fold(text)).split()).rstrip(".!").strip()


@dataclass
class Dependencies:
    passed: bool
    reason_key: str
    values: dict[str, str]
    links: list[Link]
    teams: list[str]


def read_dependencies(issue: Issue, body: Body, config: Config, texts: dict[str, str]) -> Dependencies:
    patterns = rules(config)
    links = [
        link for link in extract_links(issue.body, config, repo=issue.repo)
        if not (link.repo is None and link.number == issue.number)
    ]
    teams = named_teams(body, config)
    dep_fields = [f for f in body.fields if matches(patterns.deps_field, f.label)]
    dep_values = [v for f in dep_fields for v in f.values]
    dep_teams = teams_in(dep_values, config)
    none = any(matches(patterns.none_value, _plain_value(v)) for v in dep_values) or _states_none(body, patterns)
    parts = []
    for kind in ("depends_on", "blocks"):
        refs = [link.ref for link in links if link.kind == kind]
        if refs:
            parts.append(texts[kind].format(refs=", ".join(refs)))
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

def evaluate_ready(issue: Issue, config: Config) -> ReadyVerdict:
    """Judge a backlog item against the five Ready criteria. Never raises on any text."""
    patterns = rules(config)
    ready = config.ready
    body = read_body(issue.body)
    title = (issue.title or "")[:MAX_LINE]
    language = detect_language(f"{title}\n{strip_comments((issue.body or '')[: DETECT_CHARS * 2])}", config)
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
