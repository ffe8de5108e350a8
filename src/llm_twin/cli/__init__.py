"""The `twin` command line, one module per pipeline stage."""
