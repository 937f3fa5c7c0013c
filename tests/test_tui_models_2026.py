"""The 2026 families in the app: the import dialog takes ORG/NAME (through huggingface_hub, against the fake
hub of tests/fake_hub.py), a hybrid model's recurrent state is a segment of the VRAM bar, and config
fields the import did not model are named on screen (a warning in the problems strip)."""

from __future__ import annotations

from conftest import make_app, started
from independent_counts import CONFIGS
from textual.widgets import Input

from napkinmath.tui.dialogs import ImportConfigScreen
from napkinmath.tui.problems import ProblemsStrip
from napkinmath.tui.vram_bar import VramBar


async def import_through_dialog(pilot, main, target: str) -> None:
    main.query_one("#import-config").press()
    await pilot.pause()
    assert isinstance(pilot.app.screen, ImportConfigScreen)
    pilot.app.screen.query_one("#import-path", Input).value = target
    await pilot.press("enter")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_import_dialog_takes_org_name_and_the_vram_bar_shows_the_state(napkin_home, hub):
    hub.repos["Qwen/Qwen3.5-27B"] = {"config.json": (CONFIGS / "Qwen--Qwen3.5-27B.json").read_bytes()}
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        main = await started(pilot)
        assert "state" not in str(main.query_one(VramBar).render())  # a transformer keeps no recurrent state
        await import_through_dialog(pilot, main, "Qwen/Qwen3.5-27B")
        model = main.session.profile.model
        assert model.name == "Qwen3.5-27B" and model.state_layers == 48
        assert main.session.plan.memory.per_gpu.state_used > 0
        assert "state" in str(main.query_one(VramBar).render())
        assert not any(n.severity == "warning" for n in app._notifications)


async def test_unmodelled_fields_are_named_in_a_notice_and_in_the_problems_strip(napkin_home, hub):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        main = await started(pilot)
        await import_through_dialog(pilot, main, str(CONFIGS / "nvidia--Gemma-4-31B-IT-NVFP4.json"))
        unmodelled = main.session.profile.model.unmodelled
        assert unmodelled
        assert any(n.severity == "warning" and unmodelled[0] in str(n.message) for n in app._notifications)
        # one of the plan's warnings, shown with the others under the VRAM bar (issue 17)
        strip = str(main.query_one("#problems-wide", ProblemsStrip).render())
        assert "⚠ " in strip and "not modelled" in strip and unmodelled[0] in strip


async def test_a_missing_repository_is_said_in_the_dialog_kept_open_and_changes_nothing(napkin_home, hub):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        main = await started(pilot)
        before = main.session.profile
        await import_through_dialog(pilot, main, "org/Missing-7B")
        assert main.session.profile == before
        dialog = pilot.app.screen  # asked again, with the text typed and why it failed (issue 17, item 8)
        assert isinstance(dialog, ImportConfigScreen) and dialog.query_one("#import-path", Input).value == "org/Missing-7B"
        assert "org/Missing-7B" in str(dialog.query_one("#import-problem").render())
