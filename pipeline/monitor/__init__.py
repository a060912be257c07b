"""`python -m pipeline monitor`: skew and drift of the logged serving requests of a time window."""
