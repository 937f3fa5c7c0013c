"""napkinmath.tui: the front ends (the command line now; the Textual app lands with issue 3)."""
