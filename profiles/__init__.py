"""Shipped example profiles: the seed scenarios and a few common deployments (TOML files here)."""
