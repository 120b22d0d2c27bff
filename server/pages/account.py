"""The Account page: plan, balance, what things cost, and what the credits went on, newest first."""

from __future__ import annotations

import html
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holoviews as hv
import pandas as pd
import panel as pn

from server.pages.common import PANEL_CSS, empty_state, section
from server.session import Session, friendly
from workbench.activity import ACTION_NAMES, ActivityLine, ActivityPage, BalancePoint, CreditActivity

__all__ = ["AccountPage", "activity_html", "when_text", "browser_zone"]

PAGE_SIZE = 20
ACTIVITY_CSS = """
ol.wb-activity { list-style: none; margin: 0; padding: 0; font-size: 14px; }
.wb-activity li { display: grid; grid-template-columns: 150px 1fr 90px; gap: 12px; padding: 9px 4px;
  border-bottom: 1px solid #eee; align-items: baseline; }
.wb-activity .wb-when { color: #6b6b6b; font-size: 12px; font-variant-numeric: tabular-nums; }
.wb-activity .wb-delta { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.wb-activity .granted .wb-delta { color: #1d7a3a; }
.wb-activity .refunded .wb-what, .wb-activity .refunded .wb-delta { color: #6b6b6b; }
.wb-activity .held .wb-what { font-style: italic; }
"""


def when_text(when: datetime, now: datetime) -> str:
    """A timestamp the way a person says it: 'Today 14:05', 'Yesterday 09:12', '3 Nov 2026 18:40'."""
    days = (now.date() - when.date()).days
    if days == 0:
        return f"Today {when:%H:%M}"
    if days == 1:
        return f"Yesterday {when:%H:%M}"
    return f"{when.day} {when:%b %Y %H:%M}"


def activity_html(lines: list[ActivityLine], now: datetime, zone: tzinfo | None = None) -> str:
    """The activity list (every word escaped: grant notes are typed by an admin).

    ``now`` and each line's time are naive UTC; with ``zone`` they are shown in that time zone.
    """
    if zone is not None:
        now = _local(now, zone)
    rows = []
    for line in lines:
        when = _local(line.when, zone) if zone is not None else line.when
        delta = f"{line.credits:+d}".replace("-", "−") if line.credits else "0"
        rows.append(f'<li class="{html.escape(line.state, quote=True)}" data-action="{html.escape(line.action, quote=True)}">'
                    f'<span class="wb-when">{html.escape(when_text(when, now))}</span>'
                    f'<span class="wb-what">{html.escape(line.summary)}</span>'
                    f'<span class="wb-delta" title="credits">{delta}</span></li>')
    return f'<ol class="wb-activity">{"".join(rows)}</ol>'


def _local(when: datetime, zone: tzinfo) -> datetime:
    return when.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def browser_zone() -> tuple[tzinfo | None, str]:
    """The time zone this page's browser reported, and its name ("UTC" until it has reported one)."""
    info = pn.state.browser_info
    name = str(getattr(info, "timezone", "") or "") if info is not None else ""
    if not name or name == "UTC":
        return None, "UTC"
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError):  # a name the server's tz database does not know
        return None, "UTC"


def _utc_now() -> datetime:
    # The ledger stores naive UTC timestamps (the database's now()).
    return datetime.now(UTC).replace(tzinfo=None)


class AccountPage(pn.viewable.Viewer):
    """Who you are, your plan and credits, and every action that spent or added them."""

    def __init__(self, session: Session, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        self.activity = CreditActivity(session.wb.db, session.wb.accounts)
        hv.extension("bokeh", logo=False)
        self.body = pn.Column(sizing_mode="stretch_width", margin=0)
        self.lines = pn.pane.HTML("", stylesheets=[PANEL_CSS, ACTIVITY_CSS], sizing_mode="stretch_width", margin=0,
                                  css_classes=["wb-activity-list"])
        self.where = pn.pane.HTML("", stylesheets=[PANEL_CSS], margin=(8, 12))
        self.newer = pn.widgets.Button(label="← Newer", color="default", width=100, css_classes=["wb-newer"])
        self.older = pn.widgets.Button(label="Older →", color="default", width=100, css_classes=["wb-older"])
        self.newer.on_click(lambda e: self._page(max(0, self._offset - PAGE_SIZE)))
        self.older.on_click(lambda e: self._page(self._offset + PAGE_SIZE))
        self._offset = 0
        self._page_shown: ActivityPage | None = None
        self._draw()
        # The browser says its time zone just after the page opens: show the times again in it then.
        if pn.state.browser_info is not None:
            pn.state.browser_info.param.watch(self._zone_arrived, "timezone")

    def _zone_arrived(self, event: Any) -> None:
        if self._page_shown is not None:
            self._show(self._page_shown)

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
        prices = "".join(f"<tr><td>{html.escape(ACTION_NAMES.get(action, action))}</td>"
                         f"<td>{wb.accounts.price(action)}</td></tr>" for action in wb.settings.credits.prices)
        price_table = pn.pane.HTML(f'<table class="wb-table"><tr><th>AI action</th><th>Credits</th></tr>{prices}</table>',
                                   stylesheets=[PANEL_CSS], width=320, margin=0)
        first = self.activity.recent(user, limit=PAGE_SIZE)
        if not first.items:
            history: list[Any] = [empty_state("No credit activity yet", "Every AI action will be listed here.")]
        else:
            self._show(first)
            history = [pn.Row(self.newer, self.where, self.older, margin=(0, 0, 6, 0)), self.lines,
                       section("Balance over time"), self._chart(self.activity.balance_history(user), balance)]
        self.body.objects = [
            pn.Row(pn.Column(section("Balance"), summary, sizing_mode="stretch_width", margin=(0, 32, 0, 0)),
                   pn.Column(section("What things cost"), price_table, margin=0), sizing_mode="stretch_width",
                   margin=0),
            section("Activity"), *history,
        ]

    @friendly
    def _page(self, offset: int) -> None:
        self._show(self.activity.recent(self.session.me, limit=PAGE_SIZE, offset=offset))

    def _show(self, page: ActivityPage) -> None:
        self._offset, self._page_shown = page.offset, page
        zone, zone_name = browser_zone()
        self.lines.object = activity_html(page.items, _utc_now(), zone)
        last = page.offset + len(page.items)
        where = f"{page.offset + 1}–{last} of {page.total} · newest first · times in {html.escape(zone_name)}"
        self.where.object = f'<span class="wb-hint">{where}</span>' if page.items else ""
        self.newer.disabled = page.offset == 0
        self.older.disabled = not page.has_older
        # Two greyed-out buttons around "1–6 of 6" only say there is nothing to page through.
        self.newer.visible = self.older.visible = page.total > len(page.items) or page.offset > 0

    @staticmethod
    def _chart(points: list[BalancePoint], balance: int) -> pn.pane.HoloViews:
        # The step line runs on to now, so a quiet account still reads as a level balance.
        frame = pd.DataFrame({"When": [p.when for p in points] + [_utc_now()],
                              "Balance": [p.balance for p in points] + [balance]})
        chart = hv.Curve(frame, "When", "Balance").opts(
            interpolation="steps-post", color="#111111", line_width=2, responsive=True, height=220,
            tools=["hover"], ylabel="Credits", xlabel="", title="", show_grid=True, toolbar="above",
            default_tools=["pan", "wheel_zoom", "reset"], backend_opts={"plot.toolbar.logo": None})
        return pn.pane.HoloViews(chart, sizing_mode="stretch_width", height=240)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.body, sizing_mode="stretch_width", margin=(8, 24))
