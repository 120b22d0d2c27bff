"""The workbench's look: Panel's native design with a black-and-white palette and one accent.

Every Panel component renders in its own shadow root, so page-wide CSS does not
reach inside; the palette therefore travels as a stylesheet that the design
adds to every component. All files are served by the app (``/assets``): no
CDN, no web fonts (the system's sans-serif and Courier are used).
"""

from __future__ import annotations

from pathlib import Path

import panel as pn
from bokeh.settings import settings as bokeh_settings
from panel.theme import Native
from panel.theme.base import Inherit
from panel.viewable import Viewable

__all__ = ["STATIC", "ASSETS_URL", "FOCUS_CSS", "Studio", "configure", "asset"]

STATIC = Path(__file__).parent / "static"
ASSETS_URL = "/assets"


def asset(name: str) -> str:
    """The URL the app serves a static file under."""
    return f"{ASSETS_URL}/{name}"


# Bokeh outlines a clicked button with a dotted ring (``.bk-btn-default:focus``) that stays until the
# next click elsewhere. A ring is for the keyboard: only ``:focus-visible`` keeps it (theme.css draws it).
# ``!important`` because Bokeh's own rules carry as much specificity and come in a different order per widget.
FOCUS_CSS = ":focus:not(:focus-visible) { outline: none !important; }"


class Studio(Native):
    """Native design plus the workbench palette (``static/theme.css``)."""

    modifiers = {
        Viewable: {
            "stylesheets": [Inherit, asset("theme.css"), FOCUS_CSS],
        }
    }


def configure() -> None:
    """Process-wide Panel settings: the design, resources from the app, friendly errors."""
    from server.session import report_error

    pn.config.design = Studio
    pn.config.exception_handler = report_error
    pn.config.raw_css = [(STATIC / "app.css").read_text()]
    # Resources come from this app, never from a CDN, whatever BOKEH_RESOURCES says in the shell.
    bokeh_settings.resources.set_value("server")
