"""napkinmath.core: the pure planning engine.

Sub-packages in the order data flows (docs/design/architecture.md): ``specs`` (what hardware and
models are) -> ``physics`` and ``sources`` -> ``engines`` -> ``profile`` -> ``plan`` -> ``tools`` and
``report``. Nothing here imports Textual, Rich or the TUI; an import-linter contract and
``tests/test_core_purity.py`` prove it. Import what you need from its module, e.g.
``from napkinmath.core.plan.compose import plan``.
"""
