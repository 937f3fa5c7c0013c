"""The planner's compositor (tui/compositor.py) writes to the terminal exactly what Textual's would.

Its partial updates render each cluster of changed regions on its own and skip widgets outside them;
the bytes sent for an update must not change. The Pilot test renders every partial update of a few
edits both ways (ours, then Textual's ``Compositor.render_partial_update`` on the same changed regions)
and compares the terminal output (less cursor moves followed by nothing: ``written``).
"""

from __future__ import annotations

import re

from conftest import make_app, started
from textual._compositor import Compositor
from textual.geometry import Region

from napkinmath.tui.compositor import ClusteredCompositor, clusters

# A cursor move with nothing written after it (before the next line's move, or at the end): Textual's own
# update sends one where a piece of line starts exactly at a changed span's end; it draws nothing.
IDLE_MOVE = re.compile(r"\x1b\[\d+;\d+H(?=\n|\x1b\[\d+;\d+H|$)")


def written(data: str) -> str:
    """The terminal output less the cursor moves that draw nothing."""
    return IDLE_MOVE.sub("", data)


def test_far_apart_regions_are_rendered_apart_and_neighbours_together() -> None:
    field = Region(73, 3, 9, 1)
    panels = [Region(0, 14, 120, 6), Region(0, 20, 120, 1), Region(0, 21, 50, 14), Region(50, 21, 40, 14)]
    groups = clusters([field, *panels])
    assert sorted(len(group) for group in groups) == [1, 4]
    assert [field] in groups
    assert clusters([Region(0, 0, 10, 1), Region(5, 0, 10, 1)]) == [[Region(0, 0, 10, 1), Region(5, 0, 10, 1)]]


async def test_partial_updates_write_what_textual_would(monkeypatch) -> None:
    compared: list[int] = []  # clusters per compared update
    ours = ClusteredCompositor.render_partial_update

    def both(self: ClusteredCompositor):  # noqa: ANN202
        regions = set(self._dirty_regions)
        update = ours(self)
        self._dirty_regions.update(regions)
        textuals = Compositor.render_partial_update(self)
        if update is None or textuals is None:
            assert update is textuals
        else:
            console = app.console
            assert written(update.render_segments(console)) == written(textuals.render_segments(console))
            compared.append(len(clusters(list(regions))))
        return update

    monkeypatch.setattr(ClusteredCompositor, "render_partial_update", both)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        assert isinstance(main._compositor, ClusteredCompositor)
        main.field_rows["workload.avg_context_tokens"].input.focus()
        await pilot.pause()
        for key in ("up", "up", "down", "pagedown", "tab", "up"):
            await pilot.press(key)
            await pilot.pause()
    assert compared and max(compared) >= 2, compared  # the field and the plan: two clusters at least once
