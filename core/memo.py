"""``LastCall``: remember the last result computed for (a model object, the other inputs).

Plans in a row mostly share the model object (a sweep, a search, a re-plan after a keystroke that did not touch
the model), so a stage that depends on the model and a few plain values can reuse its last answer. The model is
compared by identity, not by value: pydantic hashes and compares every field (~12k instructions), while ``is``
costs nothing. The memo holds a reference to the model, so its id cannot be reused while it is remembered. Only
for results nothing changes once built (frozen records, tuples)::

    _last = LastCall[tuple[int, str], Terms]()

    def terms(model: ModelSpec, inputs: tuple[int, str]) -> Terms:
        hit = _last.get(model, inputs)
        return hit if hit is not None else _last.put(model, inputs, _compute(model, *inputs))
"""

from __future__ import annotations

from typing import Generic, TypeVar

InputsT = TypeVar("InputsT")
ResultT = TypeVar("ResultT")


_EMPTY: tuple[object, object, object] = (object(), None, None)  # a model nothing is: every get misses


class LastCall(Generic[InputsT, ResultT]):
    """The last (model, inputs) -> result; one slot, so a miss simply replaces it.

    The slot is one tuple, read once and replaced whole: plans run on the app's main thread and in its
    thread workers (sweeps, the recommender, the load search) at once, and a slot of three attributes
    could be seen half-replaced (a new model and inputs beside the old result) by a thread between them.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[object, object, object] = _EMPTY

    def get(self, model: object, inputs: InputsT) -> ResultT | None:
        """The remembered result if ``model`` is the same object and ``inputs`` are equal, else None."""
        last = self._last
        if last[0] is model and last[1] == inputs:
            return last[2]  # type: ignore[return-value]  # put stored it as a ResultT for these inputs
        return None

    def put(self, model: object, inputs: InputsT, result: ResultT) -> ResultT:
        """Remember ``result`` for (``model``, ``inputs``) in place of the last one, and give it back."""
        self._last = (model, inputs, result)
        return result

    def clear(self) -> None:
        """Forget the remembered result (and let go of its model)."""
        self._last = _EMPTY
