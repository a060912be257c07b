"""StatisticsGen whose statistics of a small span are computed in process (executor.py)."""
