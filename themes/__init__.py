"""napkinmath.themes: Textual theme definitions (dark, light, ANSI-16), added with the TUI."""
