"""The plan: ``compose.plan(profile)`` composes the physics and the engine into frozen figures; advice, figures, JSON."""
