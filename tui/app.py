"""The Textual app. For now a read-only preview of the plan; the full editor lands with issue 3."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from napkinmath.core.errors import ProfileError
from napkinmath.core.paths import DEFAULT_PROFILE, shipped_profile
from napkinmath.core.plan import plan
from napkinmath.core.profile import Profile
from napkinmath.core.profile_io import load_profile
from napkinmath.tui.report import render_plan


def _opening_profile(path: str | None) -> tuple[Profile, str | None]:
    """The profile to open and, when it had to fall back to the default, why."""
    if path is not None:
        try:
            return load_profile(path), None
        except ProfileError as error:
            return load_profile(shipped_profile(DEFAULT_PROFILE)), f"{error} Opened the default profile instead."
    return load_profile(shipped_profile(DEFAULT_PROFILE)), None


class NapkinApp(App):
    """Shows one profile's plan."""

    TITLE = "napkinmath"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(self, profile: Profile, problem: str | None = None) -> None:
        super().__init__()
        self.profile = profile
        self.problem = problem

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            if self.problem:
                yield Static(self.problem, id="problem")
            yield Static(render_plan(self.profile, plan(self.profile)), id="plan")
        yield Footer()


def run_app(path: str | None) -> int:
    profile, problem = _opening_profile(path)
    NapkinApp(profile, problem).run()
    return 0
