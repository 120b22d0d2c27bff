"""The Account page: plan, balance, what things cost, and the credit ledger over time."""

from __future__ import annotations

import html
from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn

from server.pages.common import PANEL_CSS, empty_state, section
from server.session import Session, friendly

__all__ = ["AccountPage", "ledger_frame"]

LABELS = {"idea": "Idea cards", "logline": "Loglines", "outline": "Outline", "treatment": "Treatment",
          "screenplay": "Screenplay pages", "continue_scene": "Continue a scene", "rewrite": "Rewrite a selection",
          "story_prompts": "Story prompts", "auto_suggestions": "Automatic suggestions",
          "magic_board_frame": "Magic Board frame", "magic_board_plan": "Magic Board plan", "image": "Generated image"}


def ledger_frame(entries: list[Any]) -> pd.DataFrame:
    """The ledger as a table with the balance after each line (the balance is the ledger's running sum)."""
    frame = pd.DataFrame([{"When": e.created_at, "Entry": e.entry, "Credits": e.amount, "Action": e.action,
                           "Note": e.note} for e in entries],
                         columns=["When", "Entry", "Credits", "Action", "Note"])
    frame["Balance"] = frame["Credits"].cumsum() if len(frame) else pd.Series(dtype="int64")
    return frame


class AccountPage(pn.viewable.Viewer):
    """Who you are, your plan and credits, and every credit in and out."""

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        hv.extension("bokeh", logo=False)
        self.body = pn.Column(sizing_mode="stretch_width", margin=0)
        self._draw()

    @friendly
    def _draw(self) -> None:
        wb, me = self.session.wb, self.session.me
        user = wb.accounts.get_user(me.id)
        balance = wb.accounts.balance(user)
        allowance = wb.accounts.allowance(user.plan)
        summary = pn.pane.HTML(
            f'<div class="wb-account"><div class="wb-big" data-balance="{balance}">{balance}</div>'
            f'<div class="wb-hint">credits left · {html.escape(user.plan)} plan · {allowance} credits per period</div>'
            f'<p>{html.escape(user.display_name)} · {html.escape(user.email)}</p></div>',
            stylesheets=[PANEL_CSS, ".wb-big { font-size: 44px; font-weight: 700; letter-spacing: -.02em; }"],
            sizing_mode="stretch_width", margin=0)
        prices = "".join(f"<tr><td>{html.escape(LABELS.get(action, action))}</td><td>{wb.accounts.price(action)}</td></tr>"
                         for action in wb.settings.credits.prices)
        price_table = pn.pane.HTML(f'<table class="wb-table"><tr><th>AI action</th><th>Credits</th></tr>{prices}</table>',
                                   stylesheets=[PANEL_CSS], width=320, margin=0)
        frame = ledger_frame(wb.accounts.ledger(user, limit=5000))
        if frame.empty:
            history: list[Any] = [empty_state("No credit activity yet", "Every AI action will be listed here.")]
        else:
            # The step line runs on to now, so a quiet account still reads as a level balance.
            line = pd.concat([frame[["When", "Balance"]],
                              pd.DataFrame({"When": [pd.Timestamp.now(tz="UTC").tz_localize(None)],
                                            "Balance": [balance]})], ignore_index=True)
            chart = hv.Curve(line, "When", "Balance").opts(
                interpolation="steps-post", color="#111111", line_width=2, responsive=True, height=260,
                tools=["hover"], ylabel="Credits", xlabel="", title="", show_grid=True, toolbar="above",
                default_tools=["pan", "wheel_zoom", "reset"], backend_opts={"plot.toolbar.logo": None})
            points = hv.Scatter(frame, "When", ["Balance", "Action", "Note"]).opts(
                color="#2f5bff", size=5, tools=["hover"], responsive=True, height=260)
            table = pn.widgets.Tabulator(frame.iloc[::-1].reset_index(drop=True), show_index=False, disabled=True,
                                         pagination="local", page_size=15, sizing_mode="stretch_width",
                                         theme="simple", formatters={"When": {"type": "datetime",
                                                                               "outputFormat": "dd LLL yyyy HH:mm"}})
            history = [pn.pane.HoloViews(chart * points, sizing_mode="stretch_width", height=280), table]
        self.body.objects = [
            pn.Row(pn.Column(section("Balance"), summary, sizing_mode="stretch_width", margin=(0, 32, 0, 0)),
                   pn.Column(section("What things cost"), price_table, margin=0), sizing_mode="stretch_width",
                   margin=0),
            section("Credits over time"), *history,
        ]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.body, sizing_mode="stretch_width", margin=(8, 24))
