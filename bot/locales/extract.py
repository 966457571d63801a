"""A Babel extractor for the embedded ``config/dod.yml``: its category titles, its items' titles
and help, and its label descriptions, so that the default DoD reads in the organisation's language
too (babel.cfg names it).

The msgid is the English text as written in the file; at run time a config text is looked up in the
catalog as it is (``Msg(text)``), so a NIT's own wording, which no catalog knows, is shown as written.
The ``ready:`` section is not extracted: it carries its own texts per language.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Iterator

from ruamel.yaml import YAML


def dod_yml(fileobj: BinaryIO, keywords: Any, comment_tags: Any, options: dict) -> Iterator[tuple]:
    tree = YAML(typ="rt").load(fileobj.read().decode("utf-8"))
    categories = tree.get("categories") or {}
    for key in categories:
        yield categories.lc.value(key)[0] + 1, None, str(categories[key]), [f"category {key}"]
    descriptions = (tree.get("labels") or {}).get("descriptions") or {}
    for label in descriptions:
        yield descriptions.lc.value(label)[0] + 1, None, str(descriptions[label]), [f"label {label}: description"]
    for item in tree.get("items") or []:
        for field in ("title", "help"):
            if item.get(field):
                yield item.lc.value(field)[0] + 1, None, str(item[field]), [f"item {item.get('id')}: {field}"]
