"""What every output widget shares: the plan, profile, units, baseline and layout it is bound to, and
the formatting of its figures.

Each output shows the screen's ``plan`` (bound with ``data_bind``) and computes nothing: every number
is a field of ``Plan``. Colours come from theme variables through component classes. Whether to
render compactly is the screen's ``compact`` (tui/layout.py decides it), never measured here.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from napkinmath.core.plan.figures import FIGURES_BY_KEY, delta, format_delta
from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import Profile
from napkinmath.core.report.formatting import money, rate, seconds
from napkinmath.core.specs.specs import GIB

# What bounds the users served (CapacityFigures.limited_by), in the panels' few words (the reports' sentences
# are core/report/formatting.py's LIMITED_BY_TEXT). The capacity panel's; the compare view says "engine refuses".
LIMITED_BY_WORDS = {"users": "user count", "memory": "KV memory", "speed": "speed target",
                    "weights": "weights (no fit)", "engine": "won't start"}


def memory_text(value: float, units: str) -> str:
    """Bytes in GiB or GB, never both on one screen."""
    return f"{value / GIB:,.1f} GiB" if units == "GiB" else f"{value / 1e9:,.1f} GB"


def rate_text(value: float) -> str:
    """core.formatting.rate, with millions shortened for the narrow panels."""
    return f"{value / 1e6:,.2f}M" if value >= 1e6 else rate(value)


time_text = seconds  # the panels' name for core.formatting.seconds


def money_text(value: float | None, digits: int = 2) -> str:
    """core.formatting.money with a dash, not a sentence, where nobody is served."""
    return "—" if value is None else money(value, digits)


def compact_number(value: float) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:,.3g}{suffix}"
    return f"{value:,.3g}"


class PlanView(Widget):
    """A widget that renders the current plan; the screen binds ``plan``, ``profile``, ``units``,
    ``baseline`` and ``compact``."""

    # Heights are fixed per layout in app.tcss, so a new plan repaints without a layout pass.
    plan: reactive[Plan | None] = reactive(None)
    profile: reactive[Profile | None] = reactive(None)
    units: reactive[str] = reactive("GiB")
    baseline: reactive[Plan | None] = reactive(None)  # pinned: figures show their change against it
    compact: reactive[bool] = reactive(False)  # narrow or short terminal: same figures, fewer lines
    percent_changes = False  # changes against the baseline in percent only (where the whole change is too wide)
    third_shown = True  # the last table drawn kept its third column
    TITLE = ""  # the box's title, on its border (wide layout; the compact rendering has no box)

    def on_mount(self) -> None:
        if self.TITLE:
            self.border_title = self.TITLE

    def get_component_rich_style(self, *names: str, partial: bool = False, default: Style | None = None) -> Style:
        """Textual's, remembered until the styles change (``notify_style_update``: a theme, a class here or
        above, a hover). Textual forgets its own copy on every repaint, and each new plan repaints the panels:
        the styles were looked up again some twenty times a keystroke (bench/tui_cpu.py). Nothing here
        changes an output's style without a stylesheet update: app.tcss has no transitions, and no code sets
        these widgets' or their containers' inline styles."""
        key = (names, partial)
        cache: dict[tuple[tuple[str, ...], bool], Style] = self.__dict__.setdefault("_stable_styles", {})
        style = cache.get(key)
        if style is None:
            style = super().get_component_rich_style(*names, partial=partial, default=default)
            if default is None or style is not default:  # a missing component (default returned): not kept
                cache[key] = style
        return style

    def notify_style_update(self) -> None:
        self.__dict__.get("_stable_styles", {}).clear()
        super().notify_style_update()

    def change(self, key: str, percent_only: bool = False) -> Text:
        """The figure's change against the baseline, green when better for the user, red when worse."""
        if self.baseline is None or self.plan is None:
            return Text("")
        moved = delta(FIGURES_BY_KEY[key], self.baseline, self.plan)
        if percent_only or self.percent_changes:
            percent = f"{moved.percent:+.0f}%" if moved.percent is not None else "new"
            text = "=" if moved.verdict == "same" else percent
        else:
            text = format_delta(moved)
        style = {"better": "delta--better", "worse": "delta--worse"}.get(moved.verdict, "delta--same")
        # a no-break space: a plain leading space is dropped where this Text follows another segment
        return Text(f"\u00a0{text}", self.get_component_rich_style(style))

    @property
    def peak_column_shown(self) -> bool:
        """The capacity panel shows peak-spec figures beside the expected ones when they differ, in the
        wide layout with no baseline pinned (a pinned baseline's change column takes that place); the
        roofline panel says them in words otherwise."""
        plan = self.plan
        differs = plan is not None and (plan.decode.step_time_ideal < plan.decode.step_time
                                        or plan.prefill.tokens_per_s_ideal > plan.prefill.tokens_per_s)
        return differs and not self.compact and self.baseline is None

    def fitted_table(self, build: Callable[[], list[tuple]]) -> Table:
        """The figures ``build`` gives, as a table that fits the widget: changes in percent where the whole
        change would not fit, and without the third column where even that would cut a label."""
        width, label = self.content_size.width, self.style("panel--label")
        rows = build()
        if width and not columns_fit(rows, width):
            self.percent_changes = True
            try:
                rows = build()
            finally:
                self.percent_changes = False
        self.third_shown = not width or columns_fit(rows, width)
        return figures_table(rows, label, width)

    def style(self, name: str) -> Style:
        return self.get_component_rich_style(name)

    def render(self) -> RenderableType:
        if self.plan is None or self.profile is None:
            return Text("")
        return self.render_plan(self.plan, self.profile)

    def render_plan(self, plan: Plan, profile: Profile) -> RenderableType:
        raise NotImplementedError


def columns_fit(rows: list[tuple], width: int) -> bool:
    """Whether labels, values and the third column (where a row has one) fit ``width`` columns whole."""
    def widest(column: int) -> int:
        cells = [row[column] for row in rows if len(row) > column and row[column]]
        return max((Text(cell).cell_len if isinstance(cell, str) else cell.cell_len for cell in cells), default=0)

    return widest(0) + widest(1) + widest(2) + 2 <= width


def figures_table(rows: list[tuple], label_style: Style, width: int = 0) -> Table:
    """Label and value, plus a change column when any row carries one. Where ``width`` columns cannot
    hold all three whole, the third (a change or a peak-spec figure) is left out rather than cut a label."""
    with_changes = any(len(row) > 2 and row[2] for row in rows) and (not width or columns_fit(rows, width))
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style=label_style, no_wrap=True, ratio=1)
    table.add_column(justify="right", no_wrap=True)
    if with_changes:
        table.add_column(justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*(row if with_changes else row[:2]), *([""] if with_changes and len(row) == 2 else []))
    return table
