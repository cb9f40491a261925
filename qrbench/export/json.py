"""The JSON summary of a run: the form every later command's exports share."""

import json
from pathlib import Path

from qrbench.summary import RunSummary

SUMMARY_SCHEMA_VERSION = 1


def render_run(profile: str, scenario: str, results_path: Path, summary: RunSummary) -> str:
    document = {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "profile": profile,
        "scenario": scenario,
        "results_file": str(results_path),
        "summary": summary.to_dict(),
    }
    return json.dumps(document, indent=2) + "\n"
