"""The edit session without a screen: typing, refusals, choices, imports, undo/redo, pinning, saving.

These were Pilot tests (tests/test_tui.py, test_tui_whatif.py, test_tui_discovery.py) checking the
same behaviour through the app; the screen's part of them (what a row shows) stays there.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import shipped

from napkinmath.core.plan.compose import plan
from napkinmath.core.sources.model_import import import_model
from napkinmath.core.tools.calibrate import calibrate_measured
from napkinmath.tui.fields import ALL_FIELDS, FIELDS_BY_PATH
from napkinmath.tui.history import HISTORY_LIMIT
from napkinmath.tui.session import EditSession

CONFIGS = Path(__file__).parent / "data" / "configs"
LLAMA_70B = "llama-3.1-70b-2xh100-fp8.toml"
AVG, MAX, USERS, TENSOR = (FIELDS_BY_PATH[path] for path in ("workload.avg_context_tokens",
                                                            "workload.max_context_tokens", "workload.users",
                                                            "parallelism.tensor"))


def session(name: str = LLAMA_70B) -> EditSession:
    return EditSession(shipped(name))


def type_keys(edit: EditSession, field, text: str) -> None:
    """Type ``text`` one character at a time, as the field reports each keystroke."""
    for end in range(1, len(text) + 1):
        edit.type_text(field, text[:end])


def test_typing_a_value_replans_and_marks_the_session_unsaved():
    edit = session()
    before = edit.plan.capacity.users_served
    type_keys(edit, AVG, "16384")
    assert edit.profile.workload.avg_context_tokens == 16384
    assert edit.plan == plan(edit.profile) and edit.plan.capacity.users_served < before
    assert edit.dirty and edit.title().endswith(" •")


def test_tensor_recounts_the_gpus_and_says_so():
    edit = session()
    weights = edit.plan.memory.per_gpu.weights
    edit.type_text(TENSOR, "4")
    assert edit.profile.hardware.count == 4 and edit.note == "GPUs 2 → 4: 1 replica of 4 GPUs (the rent follows)"
    edit.type_text(FIELDS_BY_PATH["hardware.count"], "8")
    edit.type_text(TENSOR, "8")  # 2 replicas of TP 4 -> 1 of TP 8: the 8 GPUs and the rent stay
    assert edit.profile.hardware.count == 8 and edit.note == "8 GPUs kept: now 1 replica of 8 GPUs"
    edit.type_text(TENSOR, "4")
    assert edit.plan.memory.per_gpu.weights == pytest.approx(weights / 2) and edit.profile.parallelism.replicas == 2


def test_a_bad_value_is_refused_with_its_reason_and_the_last_plan_kept():
    edit = session()
    edit.type_text(AVG, "3000")
    good_profile, good_plan = edit.profile, edit.plan
    assert edit.type_text(AVG, "3000x") == "a whole number, e.g. 8"
    assert edit.profile == good_profile and edit.plan == good_plan
    assert edit.stale and edit.refused["workload.avg_context_tokens"].text == "3000x"
    assert edit.title().startswith("⚠ stale plan: Average context: a whole number")
    assert edit.type_text(AVG, "99999999") == "at most the max context, 32,768 tok"
    assert edit.type_text(AVG, "2048") is None
    assert not edit.stale and edit.profile.workload.avg_context_tokens == 2048


def test_rules_across_fields_are_said_in_the_screens_words():
    edit = session()  # TP 2, 2 GPUs, 80 layers, 32,768-token max context, 4,096 average
    assert edit.type_text(FIELDS_BY_PATH["hardware.count"], "3") == "a multiple of 2 (GPUs per replica), e.g. 4"
    assert edit.type_text(MAX, "2048") == "at least the average context, 4,096 tok"
    assert edit.type_text(FIELDS_BY_PATH["parallelism.pipeline"], "81") == "at most 80 (the model's layers)"
    assert edit.type_text(FIELDS_BY_PATH["parallelism.expert"], "3") == "one of 1, 2 (it divides tensor × attn DP = 2)"
    assert edit.type_text(FIELDS_BY_PATH["workload.duty_cycle"], "150") == "at most 100 %"
    assert edit.profile == shipped(LLAMA_70B)  # nothing applied


def test_a_refused_entry_leaves_no_value_typed_on_the_way():
    edit = session()
    count = FIELDS_BY_PATH["hardware.count"]
    for end in range(1, 6):  # "1e308" typed slowly: each prefix applied for now, as after a pause
        edit.type_text(count, "1e308"[:end], final=False)
        if end == 3:
            assert edit.profile.hardware.count == 1000
    assert edit.type_text(count, "1e308") == "at most 1,000,000"  # Enter
    assert edit.profile == shipped(LLAMA_70B) and edit.stale
    assert not edit.undo()  # nothing happened that an undo could take back
    edit.type_text(USERS, "500", final=False)  # an entry that ends well keeps its value
    edit.type_text(USERS, "500")
    assert edit.profile.workload.users == 500 and edit.undo() and edit.profile.workload.users == 400


def test_up_and_down_step_between_values_the_engine_starts():
    edit = session()  # TP 2 x 2 GPUs; Llama 3.1 70B splits over 1, 2, 4, 8, 16 ranks
    count = FIELDS_BY_PATH["hardware.count"]
    assert [edit.nudged(count, "2", 1, False), edit.nudged(count, "2", -1, False), edit.nudged(count, "3", 1, False)] \
        == ["4", "2", "4"]
    assert edit.nudged(count, "2", 1, True) == "10"  # a big step: 8 GPUs more, in whole replicas
    assert [edit.nudged(TENSOR, "2", 1, False), edit.nudged(TENSOR, "4", 1, False), edit.nudged(TENSOR, "2", -1, False),
            edit.nudged(TENSOR, "2", 1, True)] == ["4", "8", "1", "8"]
    assert edit.nudged(TENSOR, "x", 1, False) == "x"


def test_the_name_follows_the_plan_until_the_user_names_it():
    edit = session()
    edit.choose("model.preset", "deepseek-v3")
    edit.choose("hardware.gpu", "h200")
    assert edit.title() == "DeepSeek-V3 on 2 × H200, FP8 weights •" and edit.profile.description == ""
    assert edit.rename("my what-if") and edit.title() == "my what-if •"
    edit.choose("model.weight_dtype", "bf16")
    assert edit.profile.name == "my what-if" and edit.profile.named
    edit.rename("")
    assert edit.profile.name == "DeepSeek-V3 on 2 × H200, BF16 weights" and not edit.profile.named
    assert edit.undo() and edit.profile.name == "my what-if"


def test_the_title_fits_its_room():
    edit = session()
    edit.toggle_pin()
    edit.choose("hardware.gpu", "h200")
    assert edit.title() == "Llama 3.1 70B on 2 × H200, FP8 weights •  ·  baseline: Llama 3.1 70B on 2xH100 SXM, FP8 weights"
    assert edit.title(60) == "Llama 3.1 70B on 2 × H200, FP8 weights •  ·  baseline pinned"
    assert edit.title(40) == "Llama 3.1 70B on… •  ·  baseline pinned" and len(edit.title(40)) <= 40


def test_the_title_counts_further_refused_fields():
    edit = session()
    edit.type_text(AVG, "x")
    edit.type_text(USERS, "y")
    assert edit.title() == "⚠ stale plan: Average context: a whole number, e.g. 8 (+1 more)"


def test_a_field_refused_because_of_another_recovers_when_that_one_changes():
    edit = session()
    assert edit.type_text(AVG, "40000") is not None  # above the 32768 max context
    assert edit.type_text(MAX, "65536") is None
    assert not edit.stale and edit.profile.workload.avg_context_tokens == 40000


def test_a_retried_field_never_changes_the_field_being_typed():
    # Found by the random-edit test below: GPUs typed, then a refused Tensor retried, recounted the GPUs
    # under the cursor (the field said 2, the plan had 4,000).
    edit = session()
    count = FIELDS_BY_PATH["hardware.count"]
    edit.type_text(count, "600")  # 300 replicas of TP 2
    assert edit.type_text(TENSOR, "5000") is not None  # over the 4,096 a degree may be
    assert edit.type_text(count, "2") is None
    assert edit.profile.hardware.count == 2 and "parallelism.tensor" in edit.refused


def test_keystrokes_in_one_field_are_one_undo_step():
    edit = session()
    start = edit.profile
    type_keys(edit, USERS, "1234")
    assert edit.profile.workload.users == 1234
    assert edit.undo() and edit.profile == start
    assert not edit.undo()  # nothing further back
    assert edit.redo() and edit.profile.workload.users == 1234
    assert not edit.redo()


def test_choosing_what_is_chosen_does_nothing_and_keeps_the_overrides():
    edit = session("b200-32b-chat-200k.toml")
    outcome = edit.choose("hardware.gpu", "b200")
    assert not outcome.changed and not edit.dirty
    assert edit.profile.hardware.memory_gib == pytest.approx(178.8139, abs=1e-3)  # not the catalog's 179.06


def test_choosing_a_gpu_loads_the_catalog_entry_and_clears_refused_fields():
    edit = session()
    edit.type_text(USERS, "lots")
    outcome = edit.choose("hardware.gpu", "h200")
    assert outcome.changed and outcome.refused is None
    assert edit.profile.hardware.gpu == "h200" and edit.profile.hardware.memory_gib == pytest.approx(140.401, abs=1e-3)
    assert not edit.stale and edit.plan.capacity.users_served > 0


def test_a_refused_choice_says_why_and_keeps_the_profile():
    edit = session()
    before = edit.profile
    outcome = edit.choose("hardware.gpu", "no-such-gpu")
    assert outcome.changed and "no-such-gpu" in (outcome.refused or "")
    assert edit.profile == before


def test_the_sampler_choice_and_back_to_the_version_default():
    edit = session()
    activations = edit.plan.memory.per_gpu.activations
    edit.choose("engine.sampler", "native")
    assert edit.profile.engine.sampler == "native" and edit.plan.memory.per_gpu.activations > activations
    edit.choose("engine.sampler", None)
    assert edit.profile.engine.sampler is None and edit.plan.memory.per_gpu.activations == activations


def test_an_imported_model_is_a_session_preset_to_come_back_to():
    edit = session()
    imported = import_model(CONFIGS / "qwen3-30b-a3b-base.json")
    assert edit.load_section("model", imported.model, session_preset=imported.model["name"]) is None
    model = edit.profile.model
    assert model.preset is None and model.experts == 128 and round(model.params_b, 3) == 30.532
    assert edit.session_preset == "qwen3-30b-a3b-base" and edit.shown_value("model.preset") == "qwen3-30b-a3b-base"
    edit.choose("model.preset", "llama-3.1-8b")
    assert edit.profile.model.preset == "llama-3.1-8b" and edit.session_preset is None
    assert edit.choose("model.preset", "qwen3-30b-a3b-base").changed
    assert edit.profile.model.experts == 128
    assert not edit.choose("model.preset", "qwen3-30b-a3b-base").changed  # already loaded


def test_a_refused_section_is_a_reason_not_a_change():
    edit = session()
    before = edit.profile
    reason = edit.load_section("hardware", {"count": 0, "memory_gib": 80, "bandwidth_tb_s": 3})
    assert reason and "count" in reason and edit.profile == before and not edit.dirty


def test_undo_and_redo_across_edits_presets_and_imports():
    edit = session()
    start = edit.profile
    type_keys(edit, USERS, "1234")
    after_edit = edit.profile
    edit.choose("model.preset", "qwen3-32b")
    after_preset = edit.profile
    edit.load_section("model", import_model(CONFIGS / "mixtral-8x7b.json").model, session_preset="mixtral")
    assert edit.profile.model.experts == 8
    for expected in (after_preset, after_edit, start):
        assert edit.undo() and edit.profile == expected
    for expected in (after_edit, after_preset):
        assert edit.redo() and edit.profile == expected


def test_a_calibration_replaces_the_profile_undoably():
    edit = session()
    before = edit.profile
    calibrated = calibrate_measured(before, "decode=900@32").profile
    assert calibrated.engine.speed_scale != pytest.approx(before.engine.speed_scale, abs=0.05)  # the fit rescaled
    edit.replace(calibrated)
    assert edit.profile == calibrated and edit.dirty
    assert edit.undo() and edit.profile == before


def test_pinning_keeps_the_plan_as_the_baseline_until_unpinned():
    edit = session()
    assert edit.toggle_pin() and edit.baseline == edit.plan
    assert edit.title().endswith("baseline: Llama 3.1 70B on 2xH100 SXM, FP8 weights")
    edit.type_text(TENSOR, "4")
    assert edit.baseline != edit.plan and edit.baseline.capacity.users_served < edit.plan.capacity.users_served
    assert not edit.toggle_pin() and edit.baseline is None and "baseline" not in edit.title()


def test_opening_and_saving_set_the_path_and_the_unsaved_mark(tmp_path):
    edit = session()
    edit.type_text(USERS, "5")
    other = shipped("llama-3.1-8b-1xl4.toml")
    edit.opened(other, tmp_path / "a.toml")
    assert edit.profile == other and edit.path == tmp_path / "a.toml" and not edit.dirty
    assert edit.undo() and edit.profile.workload.users == 5  # opening is undoable too
    edit.saved(tmp_path / "b.toml")
    assert edit.path == tmp_path / "b.toml" and not edit.dirty


def test_a_shown_value_stands_for_the_exact_one_behind_it():
    edit = session("b200-32b-chat-200k.toml")  # 178.8139… GiB
    memory = FIELDS_BY_PATH["hardware.memory_gib"]
    exact = edit.profile.hardware.memory_gib
    text = memory.format(exact)
    assert memory.parse(text) != exact  # the text is rounded to 6 digits...
    edit.type_text(memory, text)
    assert not edit.dirty and edit.profile.hardware.memory_gib == exact  # ...and still no edit


# Random editing at unit level: thousands of keystroke-sized edits, far more than a key fuzz through the
# app can afford, with the invariants the screen relies on checked after every one.
CHARACTERS = list("0123456789") * 3 + list(".-e,x_ ") + [""]


def random_text(rng: random.Random, current: str) -> str:
    roll = rng.random()
    if roll < 0.45:
        return current + rng.choice(CHARACTERS)
    if roll < 0.7:
        return current[:-1]
    if roll < 0.85:
        return str(rng.choice([0, 1, 2, 7, 8, 64, 512, 4096, 10**6, 10**9, 10**12]))
    return "".join(rng.choice(CHARACTERS) for _ in range(rng.randint(0, 6)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_thousands_of_random_edits_keep_the_session_consistent(seed):
    rng = random.Random(seed)
    edit = session("qwen3-30b-a3b-1xh100.toml")
    texts = {field.path: field.format(field.value_of(edit.profile)) for field in ALL_FIELDS}
    for _ in range(1500):
        roll = rng.random()
        typed = None
        if roll < 0.85:
            typed = rng.choice(ALL_FIELDS)
            texts[typed.path] = random_text(rng, texts[typed.path])
            edit.type_text(typed, texts[typed.path])
        elif roll < 0.9:
            edit.undo()
        elif roll < 0.93:
            edit.redo()
        elif roll < 0.97:
            edit.choose("model.kv_dtype", rng.choice(["fp8", "bf16", "fp16"]))
        else:
            edit.toggle_pin()
        # as the screen does: every field but the one typed in (and the refused ones) shows the profile
        for field in ALL_FIELDS:
            if field is not typed and field.path not in edit.refused:
                texts[field.path] = field.format(field.value_of(edit.profile))
        assert edit.plan == plan(edit.profile)  # what the screen shows is the current profile's plan
        for path, refusal in edit.refused.items():
            assert refusal.text == texts[path] and refusal.reason  # the text shown is the text refused
        if typed is not None and typed.path not in edit.refused:  # accepted text stands for the profile's value
            value, text = typed.value_of(edit.profile), texts[typed.path]
            if text.strip() or typed.kind != "optional":  # an emptied optional field takes its default
                assert typed.parse(text) == value or text.strip() == typed.format(value)
    final, undone = edit.profile, 0
    while edit.undo():
        undone += 1
    assert 0 < undone <= HISTORY_LIMIT
    while edit.redo():
        pass
    assert edit.profile == final  # every step undone comes back
