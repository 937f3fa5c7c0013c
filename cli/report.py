"""The plan as a readable Rich report (``napkin plan FILE``). Formats figures; computes nothing."""

from __future__ import annotations

from typing import Any

from rich.columns import Columns
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import Profile
from napkinmath.core.report.formatting import capacity_rows, cost_rows, gib, rate, seconds, while_running


def _figures(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.title = title
    table.title_justify = "left"
    table.title_style = "bold"
    table.add_column(style="dim", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for label, value in rows:
        table.add_row(label, value)
    return table


def _target(met: bool | None) -> str:
    return "" if met is None else (" [green]meets target[/]" if met else " [red]misses target[/]")


def render_plan(profile: Profile, result: Plan, at_slo: dict[str, Any] | None = None) -> Group:
    """Header, memory, capacity, speed, roofline, cost, then warnings and notes. ``at_slo``: the users at
    p99 targets (``napkin plan --at-slo``), shown beside the capacity by memory and by speed."""
    hw, model, par, work = profile.hardware, profile.model, profile.parallelism, profile.workload
    memory, decode, roof = result.memory.per_gpu, result.decode, result.roofline
    header = Text.assemble(
        (profile.name, "bold"), "\n",
        f"{par.gpus} x {hw.name}  ·  {model.name} ({model.weight_dtype.value} weights, {model.kv_dtype.value} KV)  ·  "
        f"TP {par.tensor} · PP {par.pipeline} · DP {par.data} · EP {par.expert} · replicas {par.replicas}",
    )
    fit = "[green]fits[/]" if result.memory.fits else "[red bold]does not fit[/]"
    memory_rows = [
        ("usable", f"{gib(memory.usable)} of {gib(memory.total)}"),
        ("weights", gib(memory.weights)),
        ("activations", gib(memory.activations)),
        ("overhead", gib(memory.overhead)),
        ("KV budget", gib(memory.kv_budget)),
        ("KV in use", gib(memory.kv_used)),
        ("KV headroom", gib(memory.free)),
        ("KV per token", f"{result.kv.bytes_per_token:,.0f} B"),
        ("KV pool", f"{result.kv.tokens_capacity:,} tokens"),
        ("model", fit),
    ]
    runs = result.runs
    capacity = capacity_rows(result, work.users, times="x")  # the plain-text report writes "x"
    if at_slo is not None:
        capacity += [
            ("users at p99 SLO", f"{at_slo['users']:,} ({at_slo['max_rate_per_s']:,.3g} req/s)"),
            ("replicas at SLO", "-" if at_slo["replicas_needed"] is None else f"{at_slo['replicas_needed']:,}"),
        ]
    speed_rows = [(label, while_running(runs, text)) for label, text in (
        ("batch per pool", f"{decode.batch:,.1f}"),
        ("step time", seconds(decode.step_time)),
        ("communication", f"{decode.communication_fraction:.0%} of the step"),
        ("tok/s per user", rate(decode.tokens_per_s_per_user) + _target(decode.meets_target)),
        ("tok/s aggregate", rate(decode.tokens_per_s_aggregate)),
        ("tok/s single user", rate(decode.tokens_per_s_single_user)),
        ("tok/s/user at peak", rate(decode.tokens_per_s_per_user_ideal)),
        ("prefill tok/s", rate(result.prefill.tokens_per_s)),
        ("TTFT", seconds(result.prefill.ttft) + _target(result.prefill.meets_target)),
    )]
    critical = "never (KV traffic grows as fast)" if roof.critical_batch is None else f"{roof.critical_batch:,}"
    roofline_rows = [
        ("ridge", f"{roof.ridge:,.1f} FLOP/B ({roof.weight_compute_path})"),
        ("decode intensity", while_running(runs, f"{decode.arithmetic_intensity:,.1f} FLOP/B ({decode.bound}-bound)")),
        ("compute busy", while_running(runs, f"{roof.compute_busy_fraction:.0%} of the step")),
        ("critical batch", critical),
        ("... weights only",
         "never" if roof.critical_batch_weights_only is None else f"{roof.critical_batch_weights_only:,}"),
    ]
    grid = Columns([_figures("Memory per GPU", memory_rows), _figures("Capacity", capacity),
                    _figures("Speed", speed_rows), _figures("Roofline", roofline_rows),
                    _figures("Cost", cost_rows(result.cost))],
                   padding=(1, 4))
    parts: list = [header, Text(""), grid]
    if result.warnings:
        parts.append(Panel(Text("\n".join(f"• {w}" for w in result.warnings)), title="warnings", border_style="yellow"))
    source = result.provenance
    engine_time = "" if source.engine_time == "none" else f", engine time {source.engine_time}"
    parts.append(Text(f"figures from: weights {source.weights} · KV budget {source.kv_budget} · decode {source.decode} "
                      f"(mbu {profile.engine.mbu:.0%} {source.bandwidth}{engine_time}) · prefill {source.prefill} "
                      f"(mfu {profile.engine.mfu:.0%})", style="dim"))
    if result.notes:
        parts.append(Text("\n".join(f"note: {n}" for n in result.notes), style="dim"))
    return Group(*parts)
