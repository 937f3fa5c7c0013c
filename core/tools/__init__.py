"""What-if tools on top of the plan: sweeps, recommendations, calibration, serving throughput."""
