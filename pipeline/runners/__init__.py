"""Where the pipeline runs: the local Beam runner, the Kubeflow compiler, Beam options and the workspace lock."""
