"""The JSON summary of a run or a comparison: the form every later command's exports share."""

import json
from pathlib import Path

from qrbench.analysis.compare import Comparison
from qrbench.analysis.explain import Explanation
from qrbench.analysis.summary import RunSummary

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


def render_comparison(comparison: Comparison) -> str:
    document = {"schema_version": SUMMARY_SCHEMA_VERSION, "comparison": comparison.to_dict()}
    return json.dumps(document, indent=2) + "\n"


def render_explanation(explanation: Explanation) -> str:
    """Savings in ms, positive where the fast values are faster (the screen writes `-`)."""
    document = {"schema_version": SUMMARY_SCHEMA_VERSION, "explanation": explanation.to_dict()}
    return json.dumps(document, indent=2) + "\n"
