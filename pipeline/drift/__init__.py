"""Drift between spans and train/serving skew: the commands, their reports and sample data."""
