"""Scoring, pure functions: statistics, metrics, thresholds, gating and paired comparison."""
