"""What every Story a format gives, and every FormatError it raises, must be, whatever the bytes:
shared by the hostile-input regression tests and the fuzzer (which imports it in a process of its
own, without pytest)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from wiredesk.formats import FormatError, language
from wiredesk.formats.times import YEARS
from wiredesk.story import WireStory


def story_problems(story: WireStory) -> list[str]:
    """Every way `story` could break a later stage (storage, pages, feeds, `wiredesk parse`)."""
    problems = [f"{where}: {problem}" for where, value in _values(story, "story") if (problem := _problem(value))]
    if not story.uri or not story.headline:
        problems.append("story: no uri or no headline")
    if story.language is not None and language.tag(story.language) != story.language:
        problems.append(f"story.language: {story.language!r} is not a well-formed tag in its canonical case")
    try:
        json.dumps(story.to_ninjs(), ensure_ascii=False).encode("utf-8")
        WireStory.from_dict(story.to_dict())
    except (TypeError, ValueError, OverflowError) as exc:
        problems.append(f"story: cannot be written out: {exc!r}")
    return problems


def error_problems(error: FormatError) -> list[str]:
    """Every way the reason a FormatError gives is not one printable line."""
    reason = str(error)
    problems = [] if reason.strip() else ["the reason is empty"]
    if "\n" in reason or "\r" in reason:
        problems.append(f"the reason is not one line: {reason!r}")
    try:
        reason.encode("utf-8")
    except UnicodeEncodeError:
        problems.append(f"the reason is not text: {reason!r}")
    if "\x00" in reason:
        problems.append(f"the reason holds a NUL: {reason!r}")
    return problems


def _values(value, where: str):
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _values(getattr(value, field.name), f"{where}.{field.name}")
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from _values(item, f"{where}[{number}]")
    else:
        yield where, value


def _problem(value) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"not text: {value!r}"
        if "\x00" in value:
            return f"a NUL, which PostgreSQL's text refuses: {value!r}"
    elif isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return f"a naive time: {value!r}"
        if value.year not in YEARS:
            return f"a time outside news copy's years: {value!r}"
    elif isinstance(value, dt.date) and value.year not in YEARS:
        return f"a date outside news copy's years: {value!r}"
    return None
