"""Conveyor against the stock TFX Chicago taxi example, side by side (see docs/BENCHMARKS.md)."""
