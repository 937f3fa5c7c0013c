"""Engines: how a serving engine (vLLM today) accounts memory and schedules, from its own sources."""
