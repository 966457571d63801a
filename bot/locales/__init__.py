"""The message catalogs: one ``<language>/LC_MESSAGES/messages.po`` per language besides English,
extracted into ``messages.pot`` from the code (``Msg``, ``NMsg``), the templates (``_()``) and the
embedded ``config/dod.yml`` (``extract.py``); see babel.cfg and the README's "Adding a language".

The ``.po`` files are read once, when a language is first asked for, and turned into ``gettext``
translations in memory (``babel.messages.pofile.read_po`` then ``mofile.write_mo`` into a buffer):
there is no compiled ``.mo`` file to build, ship or forget to rebuild. English is the msgids
themselves and needs no catalog; a message a catalog lacks (or marks fuzzy) is shown in English.
"""

from __future__ import annotations

import gettext
import io
import logging
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from ..msg import Msg, Translate

log = logging.getLogger("nexus.locales")
HERE = Path(__file__).resolve().parent
DEFAULT_LANGUAGE = "en"
# every language the bot can write: English, and each catalog shipped here
LANGUAGES: tuple[str, ...] = (DEFAULT_LANGUAGE, *sorted(
    path.parent.parent.name for path in HERE.glob("*/LC_MESSAGES/messages.po")
    if path.parent.parent.name != DEFAULT_LANGUAGE
))


@lru_cache(maxsize=None)
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language`` (English, or a language without a catalog: the msgids)."""
    path = HERE / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    try:
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=language)
    except Exception:  # a broken catalog must not stop the reports: English, and the error in the log
        log.exception("the catalog %s cannot be read; texts in %s are shown in English", path, language)
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out: English until someone confirms them
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


@lru_cache(maxsize=None)
def translator(language: str) -> Translate | None:
    """What ``Msg.render`` needs to write in ``language``; None for English."""
    if language == DEFAULT_LANGUAGE:
        return None
    catalog = translations(language)

    def translate(msgid: str, plural: str | None, n: int | None) -> str:
        if not msgid:
            return msgid  # gettext("") is the catalog's header
        if plural is not None:
            return catalog.ngettext(msgid, plural, n if n is not None else 1)
        return catalog.gettext(msgid)

    translate.number = lambda value: format_decimal(value, locale=language, group_separator=False)  # type: ignore[attr-defined]
    return translate


def number(value: float, language: str, digits: int | None = None, sign: bool = False) -> str:
    """``value`` written the reader's way, without a thousands separator: with ``digits`` decimals as
    ``"%.1f"`` writes it (50.0 / 50,0), else as short as ``"%g"`` writes it (24, 0.5 / 0,5); with
    ``sign``, "+" before a value that is not negative (+15). In English: exactly what ``%`` writes."""
    shown = abs(value) if sign else value
    if digits is not None:  # the float's exact value, rounded half to even: as "%.1f" rounds it
        text = format_decimal(Decimal(shown), format="0." + "0" * digits if digits else "0", locale=language)
    elif language == DEFAULT_LANGUAGE:
        text = f"{shown:g}"
    else:
        text = format_decimal(shown, locale=language, group_separator=False)
    return ("-" if value < 0 else "+") + text if sign else text


def localize(value: Any, language: str) -> str:
    """``value`` as people read it in ``language``: a ``Msg`` translated, anything else as it is."""
    if isinstance(value, Msg):
        return value.render(translator(language))
    return "" if value is None else str(value)


def install(environment: Any, language: str) -> None:
    """Give a Jinja2 environment (with ``jinja2.ext.i18n``) ``_()``/``ngettext()`` and the ``tr``
    filter in ``language``."""
    catalog = translations(language)
    environment.install_gettext_callables(
        lambda msgid: catalog.gettext(msgid) if msgid else msgid,
        lambda singular, plural, n: catalog.ngettext(singular, plural, n),
        newstyle=True,
    )
    environment.filters["tr"] = lambda value: localize(value, language)
    environment.filters["num"] = lambda value: format_decimal(value, locale=language)  # 3,000 / 3 000
    # 50.0 / 50,0 (``number(1)``), +15 (``number(0, sign=True)``), 24 / 0,5 (``number``): see number()
    environment.filters["number"] = lambda value, digits=None, sign=False: number(value, language, digits, sign)
    environment.globals["language"] = language
