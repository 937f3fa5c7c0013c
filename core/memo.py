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


class LastCall(Generic[InputsT, ResultT]):
    """The last (model, inputs) -> result; one slot, so a miss simply replaces it."""

    __slots__ = ("_inputs", "_model", "_result")

    def __init__(self) -> None:
        self._model: object = None
        self._inputs: InputsT | None = None
        self._result: ResultT | None = None

    def get(self, model: object, inputs: InputsT) -> ResultT | None:
        """The remembered result if ``model`` is the same object and ``inputs`` are equal, else None."""
        if self._model is model and self._inputs == inputs:
            return self._result
        return None

    def put(self, model: object, inputs: InputsT, result: ResultT) -> ResultT:
        """Remember ``result`` for (``model``, ``inputs``) in place of the last one, and give it back."""
        self._model, self._inputs, self._result = model, inputs, result
        return result

    def clear(self) -> None:
        """Forget the remembered result (and let go of its model)."""
        self._model = self._inputs = self._result = None
