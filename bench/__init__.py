"""`make bench`: the performance targets (BENCHMARKS.md), measured as ratios in one run."""
