"""``quick_init``: a frozen dataclass that is quick to build, for the records ``plan()`` builds on every call.

A frozen dataclass refuses attribute assignment, so the ``__init__`` that ``dataclasses`` generates sets
each field through ``object.__setattr__``: about 1,500 machine instructions a field on CPython 3.11,
and a plan builds over a hundred such fields (bench/plan_instructions.py measures it). ``quick_init``
gives a frozen dataclass an ``__init__`` with the same signature that writes the fields into the
instance's ``__dict__`` instead, about a third of the cost. Everything else is the dataclass's own:
assignment still raises ``FrozenInstanceError``, and ``__eq__``, ``__hash__``, ``__repr__``,
``dataclasses.fields``, ``asdict`` and ``replace`` are unchanged. Apply it above
``@dataclass(frozen=True)`` (without ``slots``: the fields live in the instance dict)::

    @quick_init
    @dataclass(frozen=True)
    class Point:
        x: float
        y: float = 0.0

``record`` below does both in one decorator, and is what the plan's records use.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Replace a frozen dataclass's ``__init__`` with one that fills ``__dict__`` directly (see above)."""
    parameters = getattr(cls, "__dataclass_params__", None)
    if parameters is None or not parameters.frozen or "__slots__" in cls.__dict__:
        raise TypeError(f"{cls.__name__}: quick_init needs a frozen dataclass without slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init does not run __post_init__")
    defaults: dict[str, Any] = {}
    arguments, lines = [], []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init or field.kw_only or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: quick_init takes plain positional fields only")
        if field.default is dataclasses.MISSING:
            arguments.append(field.name)
        else:
            defaults[f"_default_{field.name}"] = field.default
            arguments.append(f"{field.name}=_default_{field.name}")
        lines.append(f"    __dataclass_dict__[{field.name!r}] = {field.name}\n")
    source = (f"def __init__(__dataclass_self__, {', '.join(arguments)}):\n"
              f"    __dataclass_dict__ = __dataclass_self__.__dict__\n{''.join(lines)}")
    namespace: dict[str, Any] = dict(defaults)
    exec(source, namespace)  # noqa: S102 - the source is built above from the dataclass's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = f"Build a {cls.__name__} (fields written straight into the instance dict)."
    setattr(cls, "__init__", init)  # noqa: B010 - a class attribute, set as dataclasses sets its own
    return cls


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """``@record`` is ``@quick_init`` over ``@dataclass(frozen=True)``, without ``dataclasses`` first writing
    the ``__init__`` that quick_init replaces: one ``exec`` less per class when its module is imported,
    ~0.2 ms each on a small machine, for the app's start-up (bench/tui_start_instructions.py)."""
    return quick_init(dataclasses.dataclass(frozen=True, init=False)(cls))
