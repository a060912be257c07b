"""The examples the Evaluator scores: the eval split, or a fixed-size sample of a large one."""
