"""The command line; importing the command modules registers them on the app."""

from qrbench.cli import capacity, compare, doctor, gate, profiles, report, run
from qrbench.cli.app import app, main

__all__ = ["app", "capacity", "compare", "doctor", "gate", "main", "profiles", "report", "run"]
