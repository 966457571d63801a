"""Evidence kind ``metric``: a number read from a check's output or a status description, compared
with a threshold (coverage %, p99 ms, req/s, g CO2)."""

from __future__ import annotations

import operator
import re
from typing import Literal

from pydantic import Field, field_validator

from ..config.base import EvidenceBase, check_regex
from ..msg import Msg, Num, join
from .ci import matching
from .facts import Facts
from .finding import Finding, failed, passed, pending
from .kind import Kind, Reads, weaker_missing, weaker_names
from .patterns import compile, literal


class MetricEvidence(EvidenceBase):
    """A number read from a check's output or a status description, compared with a threshold."""

    kind: Literal["metric"]
    names: list[str] = Field(min_length=1)
    pattern: str | None = None  # a regex whose first group is the number; default: the first number
    op: Literal[">", ">=", "<", "<="]
    threshold: float
    unit: str = ""
    missing: Literal["pending", "fail"] = "pending"

    _pattern_ok = field_validator("pattern")(check_regex)

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_NUMBER = r"[-+]?\d[\d,.\x{202f}\x{a0}']*\d|[-+]?\d"  # RE2 syntax


def read_number(raw: str) -> float | None:
    """'91.2' '91,2' '1,234.5' '1 234,5' '1.234,5' '1,234' '312' -> a float; None if not a number.

    The last of ',' and '.' is the decimal mark when both appear; a lone ',' is a thousands
    separator only in the 1,234 / 12,345,678 shape (and not after a leading 0)."""
    s = re.sub(r"[\s\u202f\u00a0']", "", raw)
    if "," in s and "." in s:
        thousands = "," if s.rfind(",") < s.rfind(".") else "."
        s = s.replace(thousands, "").replace(",", ".")
    elif "," in s:
        grouped = re.fullmatch(r"[-+]?[1-9]\d{0,2}(,\d{3})+", s)
        s = s.replace(",", "") if grouped else s.replace(",", ".")
    elif s.count(".") > 1 and re.fullmatch(r"[-+]?[1-9]\d{0,2}(\.\d{3})+", s):
        s = s.replace(".", "")
    try:
        return float(s)
    except ValueError:
        return None


def extract(text: str, pattern: str | None, unit: str) -> float | None:
    """The number in a check's output (which the pull request's own CI writes): read with RE2."""
    if pattern:
        m = compile(pattern).search(text)
        return read_number(m.group(1) if m and compile(pattern).groups else m.group(0)) if m else None
    if unit:
        m = compile(rf"({_NUMBER})\s*{literal(unit)}").search(text)
        if m:
            return read_number(m.group(1))
    m = compile(_NUMBER).search(text)
    return read_number(m.group(0)) if m else None


def judge(ev: MetricEvidence, facts: Facts) -> Finding:
    checks = matching(facts, ev.names)
    unit = " " + ev.unit if ev.unit else ""
    want = join([ev.op + " ", Num(ev.threshold), unit], "")  # ">= 90 %"; 0,12 g in French
    if not checks:
        names = " / ".join(ev.names)
        if ev.missing == "pending":
            return pending(Msg("no check named {name} reported on this commit yet", name=names))
        return failed(Msg("no check named {name} reported on this commit", name=names))
    done = [c for c in checks if c.completed]
    if not done:
        return pending(Msg("{names} still running", names=", ".join(c.name for c in checks)))
    for check in done:
        value = extract(check.text, ev.pattern, ev.unit)
        if value is None:
            continue
        shown = join([Num(value), unit], "")
        if _OPS[ev.op](value, ev.threshold):
            return passed(Msg("{name}: {value} ({wanted})", name=check.name, value=shown, wanted=want))
        return failed(Msg("{name}: {value}, needs {wanted}", name=check.name, value=shown, wanted=want),
                      Msg("Bring it to {wanted}.", wanted=want))
    return failed(
        Msg("no number found in the output of {names}", names=", ".join(c.name for c in done)),
        Msg("Make the job print the figure in its summary or status description."),
    )


def within(org: MetricEvidence, repo: MetricEvidence) -> bool:
    """Whether every number ``repo`` accepts is one ``org`` accepts (the same direction, a threshold
    as strict or stricter): coverage >= 95 within >= 90; p99 < 4 within < 5; > 90 within >= 90."""
    if (org.op in (">", ">=")) != (repo.op in (">", ">=")):
        return False
    if org.op in (">", ">="):
        return repo.threshold > org.threshold or (repo.threshold == org.threshold and (org.op == ">=" or repo.op == ">"))
    return repo.threshold < org.threshold or (repo.threshold == org.threshold and (org.op == "<=" or repo.op == "<"))


def weaker(org: MetricEvidence, repo: MetricEvidence, org_config) -> str | None:
    if (repo.pattern, repo.unit) != (org.pattern, org.unit):
        return Msg("a repository may not change where the number is read")
    if not within(org, repo):
        return Msg("{wanted} is looser than the organisation's {org}", wanted=f"{repo.op} {repo.threshold:g}",
                   org=f"{org.op} {org.threshold:g}")
    return weaker_names(org.names, repo.names, False, False) or weaker_missing(org.missing, repo.missing)


KIND = Kind("metric", MetricEvidence, judge, waits_for="ci", reads=lambda ev: Reads(checks=tuple(ev.names)),
            weaker=weaker)
