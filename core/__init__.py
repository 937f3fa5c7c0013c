"""napkinmath.core: the pure planning engine.

Specs (pydantic), catalogs, the physics, ``plan()`` and profile I/O. Nothing here imports
Textual, Rich or the TUI; ``tests/test_core_purity.py`` proves it.
"""

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan import Plan, plan
from napkinmath.core.profile import Profile

__all__ = ["Plan", "Profile", "ProfileError", "plan"]
