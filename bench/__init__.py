"""`make bench`: the performance targets of SPEC §8, measured as ratios in one run."""
