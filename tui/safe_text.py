"""Show untrusted text as text: markup stays literal and control characters become visible."""

from __future__ import annotations

import re

from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """Replace control characters (escape sequences included) with a visible `\\xNN` form."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def as_text(text: str, style: str = "") -> Text:
    """A rich Text that renders the string literally: no markup, no escape sequences."""
    return Text(visible(text), style=style)
