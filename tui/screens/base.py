"""The screens' typed handle on the app: `mlsd_app(self)` in place of Textual's `self.app: App[Any]`.

Screens ask the app for navigation and shared services (settings, knowledge, toolkit, confirm) through
this, so mypy checks every call across the seam. Not a screen itself: any screen may import it.
"""

from __future__ import annotations

from textual.dom import DOMNode

from tui.app import MlsdApp


def mlsd_app(node: DOMNode) -> MlsdApp:
    """The MlsdApp `node` runs in; a TypeError under any other app (a screen is only ever pushed by it)."""
    app = node.app
    if not isinstance(app, MlsdApp):
        raise TypeError(f"{type(node).__name__} runs only inside MlsdApp, not {type(app).__name__}")
    return app
