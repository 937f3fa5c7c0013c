"""napkinmath.tui: the front ends: the Textual app and the `napkin` command line. Both only call the core."""
