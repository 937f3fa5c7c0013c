"""F6: the current plan beside the pinned baseline or another profile.

The inputs that differ come first (what was changed), then every figure in the main screen's units
with its change, green when it helps the user and red when it hurts. The columns are named after the
profiles. The rows are built in tui/compare_view.py; this screen only lays them out.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Label

from .compare_view import Side, column_names, figure_rows, input_rows
from .safe_text import plain
from .stack import Page

NARROW_BELOW = 100  # columns: below this the headers are cut shorter


class CompareScreen(Page[None]):
    """Two plans figure by figure: ``now`` (the planner's) and ``other`` (the baseline or a file)."""

    BINDINGS = [Binding("escape", "back", "Back")]
    COMPONENT_CLASSES = {"compare--better", "compare--worse", "compare--same"}
    DEFAULT_CSS = """
    CompareScreen .compare--better { color: $success; }
    CompareScreen .compare--worse { color: $error; }
    CompareScreen .compare--same { color: $text-muted; }
    CompareScreen .compare-heading { margin: 0 1; color: $text-muted; }
    CompareScreen #compare-title { margin: 0 1; text-style: bold; width: 1fr; }
    CompareScreen #compare-inputs { height: auto; max-height: 40%; }
    CompareScreen #compare-table { height: 1fr; }
    """

    def __init__(self, now: Side, other: Side, other_role: str, units: str = "GiB") -> None:
        super().__init__()
        self.now, self.other, self.other_role, self.units = now, other, other_role, units

    def compose(self) -> ComposeResult:
        yield Header()
        role = self.other_role[:1].upper() + self.other_role[1:]
        yield Label(plain(f"Now: {self.now.name}   ·   {role}: {self.other.name}"), id="compare-title")
        yield Label("Inputs that differ", classes="compare-heading", id="inputs-heading")
        yield DataTable(id="compare-inputs", cursor_type="none", zebra_stripes=True)
        yield Label("Figures: the change from the other plan to this one (green: better, red: worse)",
                    classes="compare-heading")
        yield DataTable(id="compare-table", cursor_type="none", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        if self.leaving:  # Escape in the same burst as F6: dismissed before it was mounted
            return
        width = 14 if self.app.size.width < NARROW_BELOW else 26
        now_name, other_name = column_names(self.now.name, self.other.name, width)
        differences = input_rows(self.now.profile, self.other.profile)
        inputs = self.query_one("#compare-inputs", DataTable)
        for key, header in (("input", "input"), ("now", now_name), ("other", other_name)):
            inputs.add_column(plain(header), key=key)
        for label, now, then in differences:
            inputs.add_row(Text(label), plain(now), plain(then))
        if not differences:
            inputs.display = False
            self.query_one("#inputs-heading", Label).update("Inputs: the same")
        rows = figure_rows(self.now, self.other, self.units)
        styles = {verdict: self.get_component_rich_style(f"compare--{verdict}")
                  for verdict in ("better", "worse", "same")}
        table = self.query_one("#compare-table", DataTable)
        # DataTable aligns every cell left: numbers are padded on the left to line up on the right
        widths = [max(len(header), *(len(text) for text in texts)) for header, texts in (
            (now_name, [row.now for row in rows]), (other_name, [row.then for row in rows]),
            ("change", [row.change for row in rows]))]
        table.add_column("figure", key="figure")
        for key, header, room in (("now", now_name, widths[0]), ("other", other_name, widths[1]),
                                  ("change", "change", widths[2])):
            table.add_column(plain(header.rjust(room)), key=key)
        for row in rows:
            table.add_row(Text(row.label), Text(row.now.rjust(widths[0])), Text(row.then.rjust(widths[1])),
                          Text(row.change.rjust(widths[2]), style=styles.get(row.verdict, styles["same"])))
        table.focus()
