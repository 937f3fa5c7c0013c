"""napkinmath's Textual themes: dark (default), light, and one of the 16 ANSI colours only.

Widgets never name a colour: they use theme variables. The app's own variables
(``$vram-weights``, ``$roofline-ridge``, ...) have defaults in ``APP_VARIABLE_DEFAULTS`` and each
theme may override them.
"""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES, Theme

# The dark theme's VRAM colours are picked so that a 16-colour terminal, which gets each one's nearest ANSI
# colour, still draws four different ones (bright blue, bright magenta, yellow, bright green: tests/test_themes.py);
# #af87d7, #d7af5f and #5fd7af all became white there.
APP_VARIABLE_DEFAULTS: dict[str, str] = {
    "pane-border": "#4d4f55",  # the panes' and panels' borders
    "vram-weights": "#5f87d7",
    "vram-activations": "#af5fd7",
    "vram-overhead": "#d7af00",
    "vram-kv": "#5fd787",
    "vram-free": "#2f6f5f",
    "vram-reserved": "#6c6c6c",
    "roofline-ridge": "#ffd75f",
    "roofline-decode": "#5fafff",
    "roofline-prefill": "#ff875f",
}

NAPKIN_DARK = Theme(
    name="napkin-dark",
    primary="#5fafff",
    secondary="#87d7af",
    accent="#ffaf5f",
    warning="#ffd75f",
    error="#ff6b6b",
    success="#87d787",
    foreground="#e4e4e4",
    background="#1a1b1e",
    surface="#232428",
    panel="#2c2e33",
    dark=True,
    variables=dict(APP_VARIABLE_DEFAULTS),
)

NAPKIN_LIGHT = Theme(
    name="napkin-light",
    primary="#005faf",
    secondary="#00875f",
    accent="#af5f00",
    warning="#af8700",
    error="#c0262d",
    success="#2e7d32",
    foreground="#1c1c1c",
    background="#fafafa",
    surface="#f0f0f0",
    panel="#e4e4e4",
    dark=False,
    variables={
        "pane-border": "#9e9e9e",  # on #fafafa: the panel colour lightened was #ffffff, invisible
        "vram-weights": "#1f5fbf",
        "vram-activations": "#8f3fbf",
        "vram-overhead": "#b07800",
        "vram-kv": "#00875f",
        "vram-free": "#8fd7c0",
        "vram-reserved": "#a8a8a8",
        "roofline-ridge": "#af5f00",
        "roofline-decode": "#005faf",
        "roofline-prefill": "#c0262d",
    },
)

# Only the 16 ANSI colours, so the terminal's own palette decides: right for plain SSH sessions.
NAPKIN_ANSI = Theme(
    name="napkin-ansi",
    primary=BUILTIN_THEMES["ansi-dark"].primary,
    secondary=BUILTIN_THEMES["ansi-dark"].secondary,
    warning=BUILTIN_THEMES["ansi-dark"].warning,
    error=BUILTIN_THEMES["ansi-dark"].error,
    success=BUILTIN_THEMES["ansi-dark"].success,
    accent=BUILTIN_THEMES["ansi-dark"].accent,
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    dark=True,
    ansi=True,
    variables={
        **BUILTIN_THEMES["ansi-dark"].variables,
        "pane-border": "ansi_bright_black",
        "vram-weights": "ansi_blue",
        "vram-activations": "ansi_magenta",
        "vram-overhead": "ansi_yellow",
        "vram-kv": "ansi_green",
        "vram-free": "ansi_cyan",
        "vram-reserved": "ansi_bright_black",
        "roofline-ridge": "ansi_yellow",
        "roofline-decode": "ansi_bright_blue",
        "roofline-prefill": "ansi_red",
    },
)

THEMES: tuple[Theme, ...] = (NAPKIN_DARK, NAPKIN_LIGHT, NAPKIN_ANSI)
DEFAULT_THEME = NAPKIN_DARK.name
