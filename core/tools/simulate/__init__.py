"""An iteration-level serving simulator: arrivals, continuous batching, paged KV, tail latency (issue 15).

model.py (the step-time protocol and synthetic models), traffic.py and traces.py (arrivals and
lengths), engine.py (one instance, stepped event by event), run.py (routing, open and closed loops,
results), stats.py (percentiles), capacity.py (the highest rate that meets an SLO, users, replicas).
"""
