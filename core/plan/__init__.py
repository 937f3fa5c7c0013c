"""The plan: ``compose.plan(profile)`` turns physics and engine into frozen figures; advice, figures, JSON."""
