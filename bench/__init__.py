"""Benchmarks (`make bench`): speed is measured here, not in timed tests."""
