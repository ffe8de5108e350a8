"""The application layer: the workspace wiring and one function per use case.

The CLI and the server only parse input, call these and render the result.
"""
