"""quick_init (core/records.py): a frozen dataclass built faster is still a frozen dataclass."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from napkinmath.core.plan.result import KvFigures, Plan, Problem
from napkinmath.core.records import quick_init, record


@quick_init
@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float = 0.5


@record
class RecordPoint:
    """The same, in one decorator (without the dataclass's own __init__ written first)."""

    x: float
    y: float = 0.5


@pytest.mark.parametrize("Point", [Point, RecordPoint], ids=["quick_init", "record"])
def test_a_quick_record_is_built_like_the_dataclass_and_stays_frozen(Point):  # noqa: N803 - the class under test
    point = Point(1.0)
    assert (point.x, point.y) == (1.0, 0.5)
    assert Point(y=2.0, x=1.0) == Point(1.0, 2.0) != Point(1.0, 3.0)
    assert hash(Point(1.0, 2.0)) == hash(Point(1.0, 2.0))
    assert repr(point) == f"{Point.__name__}(x=1.0, y=0.5)"
    assert dataclasses.asdict(point) == {"x": 1.0, "y": 0.5}
    assert dataclasses.replace(point, y=4.0) == Point(1.0, 4.0)
    assert pickle.loads(pickle.dumps(point)) == point
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1.0, 2.0, 3.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1.0, z=3.0)  # type: ignore[call-arg]


def test_the_plan_records_keep_their_dataclass_signatures():
    for built in (Plan, KvFigures, Problem):
        fields = [(field.name, field.default) for field in dataclasses.fields(built)]
        parameters = [(name, parameter.default if parameter.default is not inspect.Parameter.empty
                       else dataclasses.MISSING) for name, parameter in inspect.signature(built).parameters.items()]
        assert parameters == fields


def test_quick_init_refuses_what_it_cannot_build():
    with pytest.raises(TypeError, match="frozen dataclass without slots"):
        quick_init(dataclasses.dataclass(type("Mutable", (), {"__annotations__": {"x": "float"}})))
    with pytest.raises(TypeError, match="frozen dataclass without slots"):
        quick_init(dataclasses.dataclass(frozen=True, slots=True)(type("Slotted", (), {"__annotations__": {"x": "float"}})))
    with pytest.raises(TypeError, match="plain positional fields"):
        quick_init(dataclasses.dataclass(frozen=True)(type("Listed", (), {
            "__annotations__": {"x": "list"}, "x": dataclasses.field(default_factory=list)})))
