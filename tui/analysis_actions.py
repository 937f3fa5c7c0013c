"""The planner's comparative actions: charts (F5), compare (F6), recommend (F7), load at p99 (F8), load test.

The analysis screens import plotting and search code: they are loaded when first used, not at
start-up (tui/analysis.py).
"""

from __future__ import annotations

# The dialogs are imported where they are opened: not before the first plan is on screen (bench/tui_cpu.py).
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.paths import shipped_profiles, user_profiles_dir
from napkinmath.core.profile.schema import Profile

from .base_screen import PlannerBase
from .file_actions import user_profile_files

if TYPE_CHECKING:
    from napkinmath.core.tools.recommend import Candidate


class AnalysisActions(PlannerBase):
    """Charts, compare, recommend and the load test (keys and palette; the load test from the palette)."""

    def push_analysis(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        """Push an analysis screen under the planner's header line (the profile, unsaved mark, baseline)."""
        screen.sub_title = self.sub_title
        self.open_dialog(screen, callback)

    def action_charts(self) -> None:
        from .charts import ChartsScreen

        self.push_analysis(ChartsScreen(self.session.profile, self.slow.chart_series))

    def action_compare(self) -> None:
        """Compare with the pinned baseline, or with a profile picked from the list when none is pinned."""
        from .compare_screen import CompareScreen
        from .compare_view import Side

        session = self.session
        if session.baseline is not None and session.baseline_profile is not None:
            self.push_analysis(CompareScreen(Side(session.profile.name, session.profile, session.plan),
                                             Side(session.baseline_name, session.baseline_profile, session.baseline),
                                             "pinned baseline", self.units_shown()))
        else:
            self.action_compare_with_profile()

    def action_compare_with_profile(self) -> None:
        from .compare_screen import CompareScreen
        from .compare_view import Side

        def picked(path: Path | None) -> None:
            if path is None:
                return

            def loaded(other: tuple[Profile, Plan]) -> None:
                now = Side(self.session.profile.name, self.session.profile, self.session.plan)
                self.push_analysis(CompareScreen(now, Side(other[0].name, other[0], other[1]), f"file {path.name}",
                                                 self.units_shown()))

            # read and planned in a worker: the file may be slow, or not a file at all (a FIFO)
            self.run_slow("compare", f"Reading {path.name}", lambda: self.slow.load_and_plan(path), loaded,
                          "Could not compare")

        from .open_dialog import OpenScreen
        self.open_dialog(OpenScreen(user_profile_files(), shipped_profiles(), title="Compare with…",
                                        verb="compares", folder=user_profiles_dir(), moved=self.file_moved), picked)

    def units_shown(self) -> str:
        """The memory units the planner shows (GiB or GB), for the compare screen to use the same."""
        return self.settings.settings.units

    def action_recommend(self) -> None:
        from .analysis import RecommendScreen

        def chosen(candidate: Candidate | None) -> None:
            if candidate is not None:
                self.replace_profile(candidate.profile)
                self.say(f"{candidate.gpus} × {candidate.gpu_id}, ${candidate.per_user_month:,.2f} per user-month "
                         "(ctrl+z undoes it)", title="Deployment loaded", timeout=6)

        self.push_analysis(RecommendScreen(self.session.profile, self.slow.recommend), chosen)

    def action_load(self) -> None:
        """Users at p99 targets, percentiles at a rate and p99 against the rate (tui/load_view.py)."""
        from .load_view import LoadScreen

        self.push_analysis(LoadScreen(self.session.profile, self.slow.load_answer))

    def action_load_test(self) -> None:
        def asked(text: str | None) -> None:
            if text:
                self.show_load_test(text)

        work = self.session.profile.workload
        from .dialogs import PromptScreen
        self.open_dialog(PromptScreen(
            "Load test", f"64  or  64, {work.prompt_tokens}, {work.output_tokens}",
            "Requests in flight (vllm bench serve --max-concurrency), then optionally input and output tokens "
            "(default: the workload's)."), asked)

    def show_load_test(self, text: str) -> None:
        """The figures of a closed-loop load test (microseconds of arithmetic: no worker)."""
        from napkinmath.core.tools.loadtest import load_test
        from napkinmath.core.tools.loadtest_view import load_test_lines, load_test_request

        profile = self.session.profile
        try:
            test = load_test(profile, *load_test_request(text, profile))
        except ProfileError as error:
            self.say(str(error), title="No load test", severity="error", timeout=10)
            return
        from .dialogs import LoadTestScreen
        self.open_dialog(LoadTestScreen(load_test_lines(profile, test)))
