"""Money, rented and owned (docs/design/physics.md, "Cost")."""

from __future__ import annotations

HOURS_PER_YEAR = 8760


def cost_per_hour(gpus: int, price_per_gpu_hour: float) -> float:
    """Rented: gpus * price per GPU-hour."""
    return gpus * price_per_gpu_hour


def cost_per_user_month(per_hour: float, users_served: int, hours_per_month: float) -> float | None:
    """per_hour / users_served * hours_per_month; None when nobody is served."""
    return per_hour / users_served * hours_per_month if users_served > 0 else None


def cost_per_million_tokens(per_hour: float, aggregate_tokens_per_s: float) -> float | None:
    """per_hour / (aggregate decode tokens/s * 3600) * 1e6, over the whole deployment."""
    return per_hour / (aggregate_tokens_per_s * 3600) * 1e6 if aggregate_tokens_per_s > 0 else None


def own_lifetime_cost_per_user(gpus: int, purchase_price: float, users_served: int) -> float | None:
    """Owned: gpus * purchase price / users_served."""
    return gpus * purchase_price / users_served if users_served > 0 else None


def own_cost_per_hour(gpus: int, purchase_price: float, lifetime_years: float, tdp_w: float, pue: float,
                      power_price_kwh: float) -> float:
    """Owned: gpus * (purchase / (lifetime_years * 8760) + tdp_kw * pue * power price)."""
    return gpus * (purchase_price / (lifetime_years * HOURS_PER_YEAR) + tdp_w / 1000 * pue * power_price_kwh)
