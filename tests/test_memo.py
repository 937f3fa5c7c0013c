"""core/memo.py: LastCall reuses a result only for the same model object and equal inputs."""

from __future__ import annotations

from napkinmath.core.memo import LastCall


class _Model:
    """Stands for a pydantic model: equal by value, but LastCall must compare it by identity."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Model)

    __hash__ = object.__hash__


def test_same_model_object_and_equal_inputs_hit() -> None:
    memo = LastCall[tuple[int, str], str]()
    model = _Model()
    assert memo.get(model, (1, "a")) is None
    assert memo.put(model, (1, "a"), "result") == "result"
    assert memo.get(model, (1, "a")) == "result"


def test_an_equal_but_other_model_or_other_inputs_miss() -> None:
    memo = LastCall[tuple[int, str], str]()
    model = _Model()
    memo.put(model, (1, "a"), "result")
    assert memo.get(_Model(), (1, "a")) is None
    assert memo.get(model, (2, "a")) is None


def test_a_miss_replaces_the_one_slot_and_clear_forgets() -> None:
    memo = LastCall[tuple[int], str]()
    first, second = _Model(), _Model()
    memo.put(first, (1,), "first")
    memo.put(second, (1,), "second")
    assert memo.get(first, (1,)) is None
    assert memo.get(second, (1,)) == "second"
    memo.clear()
    assert memo.get(second, (1,)) is None
