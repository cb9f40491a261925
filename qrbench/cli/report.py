"""`qrbench report`: the HTML report on results files and explain exports."""

from pathlib import Path
from typing import Annotated

import typer

from qrbench.cli.app import app, console
from qrbench.cli.flows import exports_for
from qrbench.report.export import html as html_export
from qrbench.report.export import write
from qrbench.report.html.inputs import read_report


@app.command()
def report(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            help="Results files (run, compare, gate, baseline) and `explain --json` exports.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE|-", help="Where to write the HTML ('-': stdout)."
        ),
    ] = "report.html",
) -> None:
    """Write one self-contained HTML report (charts as inline SVG; opens offline).

    Results files are shown side by side: a stage waterfall per session, each stage's
    durations across sessions and runs, the time-to-QR ECDF with the target and p95,
    the environment and caveats. An `explain --json` export adds its attribution: each
    knob group's measured saving with its 95 % CI beside the study's estimate. Nothing
    is run. See docs/report.md for what each chart shows.

    \b
    Examples:
      qrbench report results/20261130T153544Z-optimized-lan.json -o report.html
      qrbench report results/*-old-lan.json results/*-optimized-lan.json -o compare.html
      qrbench explain new optimized --json explain.json && qrbench report explain.json
    """
    exports_for({"--output": (html_export, output)})
    parts = read_report(files)
    write(html_export.render_report(parts), output)
    if output != "-":
        console.print(f"report written to {output}", highlight=False, soft_wrap=True)
