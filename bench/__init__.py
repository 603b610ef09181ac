"""Benchmarks that print medians and the ratio to a baseline measured in the same run (never timed asserts)."""
