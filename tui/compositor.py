"""The planner screen's compositor: a partial update renders each cluster of changed regions on its own.

Why. On a keystroke two far-apart parts of the planner change: the focused field (near the top) and the
plan's panels (the lower half). Textual's compositor (``textual._compositor.Compositor``,
``render_partial_update``) renders every widget that overlaps the *bounding box* of all changed regions:
here the whole input panes between the two, about 150 widgets, each paying its style look-ups
(``background_colors``, ``get_component_rich_style``) though none of them changed. That was most of the
CPU of a keystroke (bench/tui_cpu.py).

What. The changed regions are grouped into clusters (regions whose bounding box would mostly be empty
space stay apart), each cluster is rendered with Textual's own ``_render_chops`` cropped to its box, and
the pieces are joined: a piece of a line is taken from the cluster whose box it lies in. The spans
written to the terminal are Textual's own, computed from all the regions, so what reaches the terminal is
the same as Textual's update (tests/test_tui_compositor.py compares the two byte for byte).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip

# Two clusters are rendered as one when their bounding box is at most this much larger than the two
# areas together: side by side or stacked rows cost nothing extra as one box, far-apart ones do.
MERGE_SLACK = 1.25


def clusters(regions: Sequence[Region]) -> list[list[Region]]:
    """The regions grouped so that each group's bounding box is mostly covered by its regions."""
    groups = [([region], region, region.area) for region in regions]
    merged = True
    while merged and len(groups) > 1:
        merged = False
        for first in range(len(groups)):
            for second in range(first + 1, len(groups)):
                members_a, box_a, area_a = groups[first]
                members_b, box_b, area_b = groups[second]
                box = box_a.union(box_b)
                if box_a.overlaps(box_b) or box.area <= MERGE_SLACK * (area_a + area_b):
                    groups[first] = (members_a + members_b, box, area_a + area_b)
                    del groups[second]
                    merged = True
                    break
            if merged:
                break
    return [members for members, _, _ in groups]


class ClusteredCompositor(Compositor):
    """Textual's compositor whose partial updates render only around the regions that changed."""

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        """Textual's, less the widgets whose visible part lies outside ``crop``: Textual keeps every widget
        whose *clip* (its container's visible area) overlaps the crop, so one changed field row renders every
        row of its pane, and the header and footer (clipped by the screen) render on every update. A widget
        outside the crop only fills pieces of lines outside it, which a partial update never writes."""
        if crop is None:
            yield from super()._get_renders(crop)
            return
        overlaps = crop.overlaps
        for widget, (region, clip) in self.visible_widgets.items():
            visible = region.intersection(clip)
            if not (visible.area and overlaps(visible)):
                continue
            # the part of the widget to render, in its own coordinates (all of it when it is not clipped)
            yield region, clip, widget.render_lines(visible.translate(-region.offset))

    def render_partial_update(self) -> ChopsUpdate | None:
        update_regions = list(self._dirty_regions)
        groups = clusters(update_regions)
        if len(groups) < 2:
            return super().render_partial_update()
        self._dirty_regions.clear()
        screen_region = self.size.region
        spans = list(self._regions_to_spans(update_regions))
        joined: list[dict[int, Strip | None]] | None = None
        chop_ends = [cut_set[1:] for cut_set in self.cuts]
        for group in groups:
            crop = Region.from_union(group).intersection(screen_region)
            if not crop.area:
                continue
            lines = {y for y, _, _ in self._regions_to_spans(group)}
            chops = self._render_chops(crop, lines.__contains__)
            if joined is None:
                joined = [dict.fromkeys(line) for line in chops]
            _take(joined, chops, chop_ends, lines, crop)
        if joined is None:
            return None
        return ChopsUpdate(joined, spans, chop_ends)


def _take(joined: list[dict[int, Strip | None]], chops: Sequence[Mapping[int, Strip | None]],
          chop_ends: list[list[int]], lines: set[int], crop: Region) -> None:
    """Copy into ``joined`` the pieces of ``chops`` on ``lines`` that lie (partly) inside ``crop``'s columns:
    every widget covering such a piece overlaps the crop, so the frontmost one was rendered."""
    left, right = crop.x, crop.right
    for y in lines:
        if not 0 <= y < len(joined):
            continue
        target = joined[y]
        for (x, strip), end in zip(chops[y].items(), chop_ends[y], strict=True):
            if strip is not None and target[x] is None and x < right and end > left:
                target[x] = strip
