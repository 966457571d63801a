"""Texts for people, without a language: ``Msg("{name} did not succeed", name="tests")``.

The pure domain (``checks/``, ``commands/``) says what it means with messages; the layers that render
(``app/report.py``, ``commands/reply.py``, the templates) put them in the repository's language with
the catalogs of ``bot/locales``. A ``Msg`` *is* its English text (a ``str``), so logs, the
machine-readable verdict and every comparison keep reading English; the renderers look at its
``msgid`` and ``params``. ``pybabel extract -k Msg -k NMsg:1,2`` finds the texts (see babel.cfg).

The msgid is the English text with ``{name}`` placeholders (``str.format``); a ``Msg`` without
params is not formatted, so a text written in a config (an item's title or help) goes through as
written, translated only when the catalog knows it. A param that is a ``Msg`` is translated too;
any other param is shown as given (it is a name, a number, or text a person wrote, already escaped
where it needs to be).
"""

from __future__ import annotations

from typing import Any, Callable

Translate = Callable[[str, str | None, int | None], str]  # (msgid, plural, n) -> text in a language


class Msg(str):
    """A text for people: its English rendering, with what a translation needs kept alongside."""

    msgid: str
    plural: str | None
    n: int | None
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> "Msg":
        return cls._make(msgid, None, None, params)

    @classmethod
    def _make(cls, msgid: str, plural: str | None, n: int | None, params: dict[str, Any]) -> "Msg":
        english = plural if plural is not None and n != 1 else msgid
        self = super().__new__(cls, _fill(english, params, None))
        self.msgid, self.plural, self.n, self.params = msgid, plural, n, dict(params)
        return self

    def render(self, translate: Translate | None) -> str:
        """The text in the language of ``translate`` (None: English), params rendered the same way."""
        if translate is None:
            return str.__str__(self)
        try:
            return _fill(translate(self.msgid, self.plural, self.n), self.params, translate)
        except (KeyError, IndexError, ValueError):  # a broken translation: English rather than nothing
            return _fill(self.plural if self.plural is not None and self.n != 1 else self.msgid, self.params, translate)

    def __reduce__(self):  # copy, deepcopy and pickle keep the message, not only its English text
        return (_rebuild, (self.msgid, self.plural, self.n, self.params))

    def __repr__(self) -> str:
        return f"Msg({str.__repr__(self)})"


def NMsg(singular: str, plural: str, n: int, /, **params: Any) -> Msg:
    """A message whose form depends on the number ``n`` (also available as ``{n}``)."""
    return Msg._make(singular, plural, n, {"n": n, **params})


def _rebuild(msgid: str, plural: str | None, n: int | None, params: dict[str, Any]) -> Msg:
    return Msg._make(msgid, plural, n, params)


def _fill(text: str, params: dict[str, Any], translate: Translate | None) -> str:
    if not params:
        return text
    values = {key: value.render(translate) if isinstance(value, Msg) else value for key, value in params.items()}
    return text.format(**values)


def render(value: Any, translate: Translate | None) -> str:
    """Any value as text in a language: a ``Msg`` translated, anything else as it is."""
    return value.render(translate) if isinstance(value, Msg) else str(value)


def join(parts: list[Any], separator: str = " · ") -> Msg:
    """Several messages shown as one, each translated on its own (the separator is no word)."""
    params = {f"p{k}": part for k, part in enumerate(parts)}
    return Msg._make(separator.join("{p%d}" % k for k in range(len(parts))), None, None, params)


def either(values: list[Any]) -> Any:
    """"a or b or c", the "or" in the reader's language."""
    out: Any = values[0] if values else ""
    for value in values[1:]:
        out = Msg("{first} or {second}", first=out, second=value)
    return out


def both(values: list[Any]) -> Any:
    """"a and b and c", the "and" in the reader's language."""
    out: Any = values[0] if values else ""
    for value in values[1:]:
        out = Msg("{first} and {second}", first=out, second=value)
    return out


class Filtered(Msg):
    """A message passed through ``fn`` once in the reader's language (escaping a translated title)."""

    def __new__(cls, inner: Any, fn: Callable[[str], str]) -> "Filtered":
        self = str.__new__(cls, fn(str(inner)))
        self.msgid, self.plural, self.n, self.params, self.fn = "{value}", None, None, {"value": inner}, fn
        return self

    def render(self, translate: Translate | None) -> str:
        return self.fn(render(self.params["value"], translate)) if translate else str.__str__(self)

    def __reduce__(self):
        return (Filtered, (self.params["value"], self.fn))


class Num(Msg):
    """A number written the reader's way: 85.2 in English, 85,2 in French (the renderer's ``number``)."""

    def __new__(cls, value: float) -> "Num":
        self = str.__new__(cls, f"{value:g}")
        self.msgid, self.plural, self.n, self.params, self.value = str.__str__(self), None, None, {}, value
        return self

    def render(self, translate: Translate | None) -> str:
        number = getattr(translate, "number", None)
        return number(self.value) if number else str.__str__(self)

    def __reduce__(self):
        return (Num, (self.value,))
