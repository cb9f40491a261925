"""The JSON summary of a run or a comparison: the form every later command's exports share."""

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qrbench.analysis.caveats import Caveat
from qrbench.analysis.compare import Comparison
from qrbench.analysis.explain.attribution import Explanation
from qrbench.analysis.sequential import AutoStop
from qrbench.analysis.summary import RunSummary
from qrbench.report.wording.caveats import caveat_hint, caveat_message, run_warning
from qrbench.report.wording.compare import headlines
from qrbench.report.wording.sampling import auto_heading, shift_lines, target_line

SUMMARY_SCHEMA_VERSION = 1


def render_run(profile: str, scenario: str, results_path: Path, summary: RunSummary) -> str:
    # The export keeps its `warnings`, one sentence each, where the summary has caveats.
    phrased = summary.to_dict() | {"caveats": [run_warning(c) for c in summary.caveats]}
    if summary.auto_stop is not None:
        phrased["auto_stop"] |= {"line": target_line(summary.auto_stop)}
    document = {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "profile": profile,
        "scenario": scenario,
        "results_file": str(results_path),
        "summary": {("warnings" if key == "caveats" else key): v for key, v in phrased.items()},
    }
    return json.dumps(document, indent=2) + "\n"


def render_comparison(comparison: Comparison) -> str:
    phrased = comparison.to_dict() | {
        "caveats": [_caveat(caveat) for caveat in comparison.caveats],
        "headlines": headlines(comparison),
        "auto_stop": _auto_stop(comparison.auto_stop),
    }
    document = {"schema_version": SUMMARY_SCHEMA_VERSION, "comparison": phrased}
    return json.dumps(document, indent=2) + "\n"


def render_explanation(explanation: Explanation) -> str:
    """Savings in ms, positive where the fast values are faster (the screen writes `-`)."""
    phrased = explanation.to_dict() | {
        "caveats": [_caveat(caveat) for caveat in explanation.caveats],
        "auto_stop": _auto_stop(explanation.auto_stop),
    }
    document = {"schema_version": SUMMARY_SCHEMA_VERSION, "explanation": phrased}
    return json.dumps(document, indent=2) + "\n"


def _auto_stop(stop: AutoStop | None) -> dict[str, Any] | None:
    """Each question's last look, with the line the console printed for it."""
    if stop is None:
        return None
    looks = _finite(asdict(stop))
    return looks | {"heading": auto_heading(stop), "lines": shift_lines(stop)}


def _finite(value: Any) -> Any:
    """`value` with every infinite float as null: a look with no bound yet has an interval
    of +-inf and a boundary of inf, which JSON cannot say."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _caveat(caveat: Caveat) -> dict[str, Any]:
    return {
        "kind": caveat.kind.value,
        "label": caveat.label,
        "message": caveat_message(caveat),
        "hint": caveat_hint(caveat),
    }
