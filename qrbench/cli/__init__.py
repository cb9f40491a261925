"""The command line. A command's module registers it on the app when imported, which
`app.load_commands` does for the command being run only."""

from qrbench.cli.app import app, load_commands, main

__all__ = ["app", "load_commands", "main"]
