"""The physics: one small pure function per quantity (memory, KV, capacity, decode, prefill, cost)."""
