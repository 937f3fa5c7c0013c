"""What a user must know before trusting the plan, on the planner screen: the plan's problems with their
severity (core/plan/result.py, ``Plan.problems``), and whether the figures are stale.

The strip shows as many lines as it needs up to its limit (wide: two lines under the VRAM bar; narrow:
six under the input pane), errors first, each problem whole and wrapped; when they do not all fit its
last line says so and F9 lists every problem and note (``ProblemsScreen``). Words, not only colour:
"✗" marks an error, "⚠" a warning, "⟳" a stale plan, so every theme and a terminal without colour
keep the distinction.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.reactive import reactive
from textual.widgets import Label, Static

from napkinmath.core.plan.result import Plan

from .plan_view import PlanView
from .safe_text import plain
from .stack import Dialog

MARKS = {"error": "✗ ", "warning": "⚠ ", "stale": "⟳ "}


class ProblemsStrip(PlanView):
    """The plan's problems and a stale mark, a line or a few, whole words wrapped."""

    COMPONENT_CLASSES = {"problems--error", "problems--warning", "problems--stale", "problems--more"}
    DEFAULT_CSS = """
    ProblemsStrip { height: auto; padding: 0 1; }
    ProblemsStrip .problems--error { color: $error; text-style: bold; }
    ProblemsStrip .problems--warning { color: $warning; text-style: bold; }
    ProblemsStrip .problems--stale { color: $warning; text-style: bold reverse; }
    ProblemsStrip .problems--more { color: $text-muted; }
    """

    stale: reactive[str] = reactive("")  # why the figures are the last good plan's ("" when current)

    def __init__(self, max_lines: int, max_lines_not_running: int, id: str | None = None) -> None:
        """``max_lines``: the most lines shown; ``max_lines_not_running``: the same for a plan that cannot
        run, whose panels have fewer figures to show (no speeds), so more room for why."""
        super().__init__(id=id)
        self.max_lines = max_lines
        self.max_lines_not_running = max_lines_not_running
        self.line_count = -1
        self._drawn_plan: Plan | None = None  # the plan of the lines kept in _lines,
        self._drawn: tuple[object, ...] = ()  # and their (stale, width, theme)
        self._lines: list[Text] = []

    def entries(self) -> list[tuple[str, str]]:
        """(kind, text) to show: the stale mark first, then the plan's problems (errors first)."""
        shown = [("stale", f"stale: the figures are the last good plan's ({self.stale})")] if self.stale else []
        if self.plan is not None:
            shown += [(problem.severity, problem.message) for problem in self.plan.problems]
        return shown

    def lines(self, width: int) -> list[Text]:
        """The strip's lines at ``width`` columns, cut to ``max_lines`` with a last line saying so (worked
        out once per plan, stale mark and width: the keystroke path asks twice). The list kept: its callers
        only count and join the lines, and ``Text.join`` copies them."""
        key = (self.stale, width, self.app.theme)
        if key != self._drawn or self._drawn_plan is not self.plan:
            self._drawn, self._drawn_plan, self._lines = key, self.plan, self._wrapped(max(20, width))
        return self._lines

    def _wrapped(self, width: int) -> list[Text]:
        console = self.app.console
        lines: list[Text] = []
        for kind, message in self.entries():
            entry = Text.assemble((MARKS[kind], self.style(f"problems--{kind}")), plain(message))
            wrapped = entry.wrap(console, width - 2)
            lines += [line if index == 0 else Text.assemble("  ", line) for index, line in enumerate(wrapped)]
        most = self.max_lines if self.plan is None or self.plan.runs else self.max_lines_not_running
        if len(lines) <= most:
            return lines
        more = Text(" … (F9)", self.style("problems--more"))
        last = lines[most - 1]
        last.truncate(max(0, width - more.cell_len))
        return [*lines[:most - 1], Text.assemble(last, more)]

    def render(self) -> RenderableType:
        return Text("\n").join(self.lines(self.content_size.width))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def _follow(self) -> None:
        """A new plan or stale mark: lay the screen out again only when the number of lines changes (a
        hidden strip, the other layout's, is measured afresh when it is shown)."""
        self.clear_cached_dimensions()
        if not self.display or not self.content_size.width:
            self.line_count = -1
            return
        count = len(self.lines(self.content_size.width))
        if count != self.line_count:
            self.line_count = count
            self.refresh(layout=True)

    def watch_plan(self) -> None:
        self._follow()

    def watch_stale(self) -> None:
        self._follow()


class ProblemsScreen(Dialog[None]):
    """Every problem and note of the plan, whole (F9)."""

    BINDINGS = [Binding("escape,q,f9", "close", "Close")]
    COMPONENT_CLASSES = {"problems--error", "problems--warning"}
    DEFAULT_CSS = """
    ProblemsScreen .problems--error { color: $error; text-style: bold; }
    ProblemsScreen .problems--warning { color: $warning; text-style: bold; }
    ProblemsScreen #problems-list { height: auto; max-height: 18; scrollbar-size-vertical: 1; }
    """

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Problems and notes", classes="dialog-title")
            with VerticalScroll(id="problems-list"):
                yield Static(id="problems-text")
            yield Label("Escape closes · Up/Down scroll", classes="dialog-hint")

    def on_mount(self) -> None:
        text = Text()
        for problem in self.plan.problems:
            text.append(MARKS[problem.severity], self.get_component_rich_style(f"problems--{problem.severity}"))
            text.append_text(plain(problem.message))
            text.append("\n\n")
        if not self.plan.problems:
            text.append("No problems: the plan runs as set.\n\n")
        if self.plan.notes:
            text.append("Notes\n", "bold")
            for note in self.plan.notes:
                text.append_text(plain(f"· {note}\n"))
        text.rstrip()
        self.query_one("#problems-text", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
