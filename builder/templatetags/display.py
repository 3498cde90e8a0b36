"""Small display filters shared by the pages."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import linebreaks, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

register = template.Library()

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_BULLET = re.compile(r"\s+-\s+(?=[A-Z`*])")  # "Preconditions: - Either ... - Maximum ..."
_LIMITS = re.compile(r"\*?Rate limits\*?:.*$", re.IGNORECASE | re.DOTALL)


def _plain(value: str) -> str:
    text = strip_tags(_BREAK.sub("\n", value or ""))
    return text.replace("\\[", "[").replace("\\]", "]").replace("**", "").replace("`", "")


@register.filter
def vendor_text(value: str) -> SafeString:
    """Render vendor text (stray `<br>`, markdown-ish marks, dash lists) as safe paragraphs."""
    text = _BULLET.sub("\n• ", _plain(value))
    return mark_safe(linebreaks(text, autoescape=True))  # noqa: S308 - linebreaks escapes


@register.filter
def summary(value: str, length: int = 140) -> str:
    """Return the opening of vendor text, without its rate-limit and scope boilerplate."""
    text = " ".join(_LIMITS.sub("", _plain(value)).split())
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"


@register.filter
def ago(value: datetime | None, never: str = "never") -> str:
    """Return "just now", "5 minutes ago" or `never` for a missing time."""
    if value is None:
        return never
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def pretty_json(value: object) -> str:
    """Render run data as indented JSON (escaped by the template like any text)."""
    if value is None:
        return "—"
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def duration(milliseconds: float | None) -> str:
    """Return a duration for people: "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min"."""
    if milliseconds is None:
        return "—"
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@register.filter
def first_line(text: str, length: int = 160) -> str:
    """Return the first line of a message, cut to `length` characters."""
    line = (text or "").strip().split("\n", 1)[0]
    return line if len(line) <= length else line[: length - 1] + "…"
