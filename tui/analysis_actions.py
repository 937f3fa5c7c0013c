"""The planner's comparative actions: charts (F5), compare (F6), recommend (F7).

The analysis screens import plotting and search code: they are loaded when first used, not at
start-up (tui/analysis.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from napkinmath.core.plan.compose import plan as make_plan
from napkinmath.core.profile.paths import shipped_profiles

from .base_screen import PlannerBase
from .dialogs import OpenScreen
from .file_actions import user_profile_files

if TYPE_CHECKING:
    from napkinmath.core.tools.recommend import Candidate


class AnalysisActions(PlannerBase):
    """Charts, compare and recommend (keys and palette)."""

    def push_analysis(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        """Push an analysis screen under the planner's header line (the profile, unsaved mark, baseline)."""
        screen.sub_title = self.sub_title
        self.app.push_screen(screen, callback)

    def action_charts(self) -> None:
        from .analysis import ChartsScreen

        self.push_analysis(ChartsScreen(self.session.profile, self.slow.chart_series))

    def action_compare(self) -> None:
        """Compare with the pinned baseline, or with a profile picked from the list when none is pinned."""
        from .analysis import CompareScreen

        session = self.session
        if session.baseline is not None:
            self.push_analysis(CompareScreen((session.profile.name, session.plan),
                                             (session.baseline_name, session.baseline)))
        else:
            self.action_compare_with_profile()

    def action_compare_with_profile(self) -> None:
        from .analysis import CompareScreen

        def picked(path: Path | None) -> None:
            if path is None:
                return
            other = self.load_or_say(path)
            if other is not None:
                self.push_analysis(CompareScreen((self.session.profile.name, self.session.plan),
                                                 (other.name, make_plan(other))))

        self.app.push_screen(OpenScreen(user_profile_files(), shipped_profiles()), picked)

    def action_recommend(self) -> None:
        from .analysis import RecommendScreen

        def chosen(candidate: Candidate | None) -> None:
            if candidate is not None:
                self.replace_profile(candidate.profile)
                self.say(f"{candidate.gpus} × {candidate.gpu_id}, ${candidate.per_user_month:,.2f} per user-month "
                         "(ctrl+z undoes it)", title="Deployment loaded", timeout=6)

        self.push_analysis(RecommendScreen(self.session.profile, self.slow.recommend), chosen)
