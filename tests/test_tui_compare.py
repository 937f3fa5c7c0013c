"""Compare (F6, issue 17 item 5): titled "Compare with…" when nothing is pinned, the inputs that differ
above the figures, columns named after the profiles, the main screen's units, the users wanted."""

from __future__ import annotations

from conftest import enter_text, make_app, shipped, started
from textual.widgets import DataTable, Label, OptionList

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.edit import edit_profile
from napkinmath.tui.compare_screen import CompareScreen
from napkinmath.tui.compare_view import Side, column_names, figure_rows, input_rows
from napkinmath.tui.open_dialog import OpenScreen
from napkinmath.tui.plan_view import time_text


def side(name, profile):
    return Side(name, profile, plan(profile))


def test_rows_use_the_main_screens_units_and_show_the_users_wanted():
    before = shipped("llama-3.1-70b-2xh100-fp8.toml")
    after = edit_profile(before, "hardware.gpu", "h200")
    rows = {row.label: row for row in figure_rows(side("after", after), side("before", before), "GiB")}
    ttft = plan(after).prefill.ttft
    assert ttft < 1 and rows["TTFT"].now == time_text(ttft) and rows["TTFT"].now.endswith(" ms")
    longer = edit_profile(after, "workload.prompt_tokens", 8000)  # a longer prompt: a later first token
    ttft_row = next(row for row in figure_rows(side("l", longer), side("a", after), "GiB") if row.label == "TTFT")
    assert ttft_row.verdict == "worse" and ttft_row.change.startswith("+") and " ms (+" in ttft_row.change
    served = rows["Users served"]
    assert served.now == f"{plan(after).capacity.users_served:,} of 400" and served.then.endswith(" of 400")
    assert served.verdict == "better" and rows["Rent / hour"].verdict == "worse"
    assert rows["Rent / hour"].change.startswith("+$") and rows["KV budget / GPU"].now.endswith(" GiB")
    in_gb = {row.label: row for row in figure_rows(side("a", after), side("b", before), "GB")}
    assert in_gb["KV budget / GPU"].now.endswith(" GB") and in_gb["Weights / GPU"].change == "="
    assert rows["Limited by"].then == "KV memory"


def test_a_plan_that_cannot_run_shows_no_speed_beside_one_that_does():
    """The won't-start plan (70B bf16 on 2 x H100 at 32K) had "Decode / user 36.1 tok/s" in compare, faster
    than the H200 plan that runs; the main screen says "— (does not run)"."""
    refused = edit_profile(shipped("llama-3.1-70b-2xh100-fp8.toml"), "model.weight_dtype", "bf16")
    runs = edit_profile(refused, "hardware.gpu", "h200")
    assert not plan(refused).runs and plan(runs).runs
    rows = {row.label: row for row in figure_rows(side("h200", runs), side("h100", refused), "GiB")}
    for label in ("Decode / user", "Decode, all", "Step time", "Prefill", "TTFT"):
        assert rows[label].then == "— (no run)" and rows[label].now != "— (no run)", label
        assert (rows[label].change, rows[label].verdict) == ("n/a", "unknown"), label
    assert rows["Limited by"].then == "engine refuses" and rows["KV pool / GPU"].then.endswith(" tok")


def test_inputs_diff_lists_what_changed_and_nothing_else():
    before = shipped("llama-3.1-70b-2xh100-fp8.toml")
    after = edit_profile(edit_profile(before, "workload.avg_context_tokens", 8192), "workload.duty_cycle", 0.5)
    assert input_rows(after, before) == [("Average context", "8,192 tok", "4,096 tok"), ("Duty cycle", "50%", "20%")]
    assert input_rows(before, before) == []
    other_gpu = {label for label, _, _ in input_rows(edit_profile(before, "hardware.gpu", "h200"), before)}
    assert {"GPU", "Memory", "Rent"} <= other_gpu and "Average context" not in other_gpu


def test_column_names_follow_the_profiles_and_tell_equal_names_apart():
    assert column_names("Llama on H200", "Llama on H100", 26) == ("Llama on H200", "Llama on H100")
    assert column_names("Same", "Same", 26) == ("Same (now)", "Same (other)")
    assert column_names("A long name that is cut", "A long name that is cut", 14) == ("A long… (now)", "A lon… (other)")
    now, other = column_names("Llama 3.1 70B on 2xH100 SXM, FP8 weights", "Qwen3 on one H100", 14)
    assert now == "Llama 3.1 70B…" and len(now) == 14 and other == "Qwen3 on one…"
    # an automatic name and the seed's differ only past the cut: the cut names would read the same
    assert column_names("Llama 3.1 70B on 2 × H200, FP8 weights", "Llama 3.1 70B on 2xH100 SXM, FP8 weights",
                        14) == ("Llama 3… (now)", "Llama… (other)")


async def test_compare_with_the_baseline_then_with_a_file(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        main.action_pin()
        await enter_text(pilot, "#field-workload-avg-context-tokens", "8192")
        await pilot.press("f6")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen) and "Pinned baseline: " in str(screen.query_one("#compare-title").render())
        inputs = screen.query_one("#compare-inputs", DataTable)
        assert [str(inputs.get_row_at(i)[0]) for i in range(inputs.row_count)] == ["Average context"]
        table = screen.query_one("#compare-table", DataTable)
        headers = [str(column.label).strip() for column in table.columns.values()]
        name = main.session.profile.name  # the same name on both sides (the name does not follow the context)
        assert headers[1].startswith(name[:10]) and headers[1].endswith("… (now)") and headers[2].endswith("(other)")
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
        assert str(rows["Users served"][1]).strip() == f"{main.plan.capacity.users_served:,} of 400"
        assert str(rows["TTFT"][1]).endswith(" ms") and str(rows["Users served"][3]).strip().startswith("−")
        assert len(str(rows["TTFT"][1])) == len(str(rows["Users served"][1]))  # padded: numbers line up right
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main
        main.action_pin()  # unpinned: F6 asks which profile to compare with
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        assert str(app.screen.query_one(".dialog-title", Label).render()) == "Compare with…"
        listing = app.screen.query_one(OptionList)
        target = next(path for path in app.screen.paths if path.name == "qwen3-30b-a3b-1xh100.toml")
        listing.highlighted = listing.get_option_index(str(target))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        headers = [str(column.label).strip() for column in screen.query_one("#compare-table", DataTable).columns.values()]
        assert headers[2].startswith("Qwen3-30B-A3B") and headers[1] != headers[2]
        inputs = screen.query_one("#compare-inputs", DataTable)
        assert {"Model", "GPUs"} <= {str(inputs.get_row_at(i)[0]) for i in range(inputs.row_count)}
