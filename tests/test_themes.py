"""Themes keep every distinction (issue 17, item 6): the VRAM segments differ in every theme, on a 16-colour
terminal too; pane borders show on the light background; the ANSI theme is chosen where only 16 colours (or
none, NO_COLOR) reach the screen, without forgetting the theme the user picked."""

from __future__ import annotations

import pytest
from conftest import make_app, started
from rich.color import Color, ColorSystem

from napkinmath.themes import APP_VARIABLE_DEFAULTS, THEMES
from napkinmath.tui.settings import Settings

SEGMENTS = ("vram-weights", "vram-activations", "vram-overhead", "vram-kv")


@pytest.mark.parametrize("theme", THEMES, ids=lambda theme: theme.name)
def test_the_vram_segments_differ_in_every_theme_even_in_16_colours(theme):
    variables = {**APP_VARIABLE_DEFAULTS, **theme.variables}
    colours = [variables[name] for name in SEGMENTS]
    if theme.name == "napkin-ansi":
        assert len(set(colours)) == len(colours)
        return
    downgraded = {Color.parse(colour).downgrade(ColorSystem.STANDARD).number for colour in colours}
    assert len(downgraded) == len(colours), colours  # TERM=xterm drew three of them in one white


def _luminance(colour: str) -> float:
    red, green, blue = Color.parse(colour).get_truecolor()
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_pane_borders_show_on_the_light_background():
    light = next(theme for theme in THEMES if theme.name == "napkin-light")
    # the border was $panel-lighten-2: #ffffff on #fafafa
    assert _luminance(light.background) - _luminance(light.variables["pane-border"]) > 0.3


@pytest.mark.parametrize(("environment", "theme"), [
    ({"TERM": "xterm", "COLORTERM": None}, "napkin-ansi"),
    ({"TERM": "xterm-256color", "COLORTERM": None, "NO_COLOR": "1"}, "napkin-ansi"),
    ({"TERM": "xterm-256color", "COLORTERM": "truecolor"}, "napkin-light"),
])
def test_the_ansi_theme_is_chosen_where_colours_are_few(napkin_home, monkeypatch, environment, theme):
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, value in environment.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    app = make_app(settings=Settings(theme="napkin-light"), fit_terminal=True)  # as `napkin` starts it
    assert app.theme == theme and app.store.settings.theme == "napkin-light"  # for this run only
    assert bool(app.theme_note) == (theme == "napkin-ansi")


async def test_without_colour_each_vram_segment_keeps_a_glyph_of_its_own(napkin_home, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(settings=Settings())
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        bar = str(main.query_one("#vram").render()).splitlines()[1]
        assert {"█", "▚", "▞", "▄", "░"} <= set(bar)  # weights, activations, overhead, KV in use, reserved
