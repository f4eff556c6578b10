"""The ``skynet`` command line (typer + rich)."""
