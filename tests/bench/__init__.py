"""Tests of the benchmarks (bench/): each runs end to end on a small population."""
