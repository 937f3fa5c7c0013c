"""How the reports write figures (the CLI report and the Markdown export share these)."""

from __future__ import annotations

from ..specs.specs import GIB


def gib(value: float) -> str:
    """Bytes in GiB, two decimals."""
    return f"{value / GIB:,.2f} GiB"


def rate(value: float) -> str:
    """A rate: whole numbers from 100 up, one decimal below."""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def money(value: float | None, digits: int = 2) -> str:
    """Dollars; None (nobody served) says so."""
    return "n/a (nobody served)" if value is None else f"${value:,.{digits}f}"


def seconds(value: float) -> str:
    """Milliseconds below a second, seconds above."""
    return f"{value * 1e3:,.1f} ms" if value < 1 else f"{value:,.2f} s"


def cost_rows(cost) -> list[tuple[str, str]]:
    """The cost figures as (label, text), in the order every report lists them."""
    return [
        ("rented per hour", money(cost.per_hour)),
        ("per user-month", money(cost.per_user_month)),
        ("per 1M tokens", money(cost.per_million_tokens, 3)),
        ("owned per hour", money(cost.own_per_hour)),
        ("owned, per user", money(cost.own_lifetime_per_user, 0)),
    ]


DOES_NOT_RUN = "n/a (does not run)"


def while_running(runs: bool, text: str) -> str:
    """A speed or capacity figure as text, or ``DOES_NOT_RUN`` for a plan that does not run (its weights do not
    fit or the engine refuses to start): the figure would describe a batch nothing serves, as the app's panels
    and the roofline say (docs/design/interfaces.md, "`napkin plan`")."""
    return text if runs else DOES_NOT_RUN


# What bounds the users served (CapacityFigures.limited_by), as every report says it.
LIMITED_BY_TEXT = {"users": "the workload's user count", "memory": "KV memory", "speed": "the speed target",
                   "weights": "the weights, which do not fit", "engine": "the engine, which refuses to start"}


def capacity_rows(plan, users: int, times: str = "×") -> list[tuple[str, str]]:
    """The capacity figures as (label, text), in the order every report lists them; ``times`` is the sign the
    report writes between sequences and pools (a plain-text report may want "x")."""
    capacity, runs = plan.capacity, plan.runs
    pools = f"{capacity.kv_groups:,} {'pool' if capacity.kv_groups == 1 else 'pools'}"
    return [
        ("users served", f"{capacity.users_served:,} of {users:,}"),
        ("limited by", LIMITED_BY_TEXT[capacity.limited_by]),
        ("capacity", while_running(runs, f"{capacity.capacity_users:,} users")),
        ("sequences (avg ctx)", while_running(runs, f"{capacity.concurrent_sequences:,} per pool {times} {pools}")),
        ("sequences (full ctx)", f"{capacity.max_sequences_full_context:,} per pool"),
        ("replicas needed", while_running(runs, "-" if capacity.replicas_needed is None
                                          else f"{capacity.replicas_needed:,}")),
    ]


def figure_number(value: float | None, missing: str = "-") -> str:
    """A figure in a table: whole numbers as such and from 100 up, two decimals below."""
    if value is None:
        return missing
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.2f}"
