"""One module per CLI verb. Each parses its arguments and calls a pipeline stage."""
