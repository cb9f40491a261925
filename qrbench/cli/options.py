"""Defaults and Typer options the commands share."""

from typing import Annotated

import typer

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"

DEFAULT_PROFILE = "optimized"

DEFAULT_SCENARIO = "lan"

DEFAULT_RUNS = 5

DEFAULT_WARMUP = 1

# The export options `compare` and `explain` share.
MarkdownExport = Annotated[
    str | None,
    typer.Option(
        "--markdown",
        help="Also write GitHub-flavoured Markdown ('-': stdout), e.g. $GITHUB_STEP_SUMMARY.",
    ),
]

JsonExport = Annotated[
    str | None, typer.Option("--json", help="Also write the result as JSON ('-': stdout).")
]
