"""How far qrbench's model is from the real whatsapp-web.js: ratio model/real per stage.

For each profile and scenario, the same profile runs on both engines, interleaved session
by session (real, model, real, model, ...) on the same replica, and the ratio of medians
(model / real) of time-to-QR and of each critical stage the engines share gets a 95 %
bootstrap CI. A ratio whose CI lies wholly outside 0.85-1.15 is flagged (the model is off
by more than 15 % there) unless the medians differ by 10 ms or less. Run it on an idle machine:

    .venv/bin/python benchmarks/fidelity.py --runs 10
    .venv/bin/python benchmarks/fidelity.py --profiles optimized --scenarios lan --runs 5

It prints a Markdown table (docs/engines.md holds the last one measured).
"""

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from qrbench.analysis.compare import load_runs
from qrbench.analysis.stats import ratio_of_medians
from qrbench.columns import StageSample
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import EngineKind
from qrbench.measure.runner import RunPlan, run_interleaved
from qrbench.records import Stage

# The stages both engines time; the handler's stages after them are the same code.
ENGINE_STAGES = (
    Stage.AUTH_RESTORE,
    Stage.BROWSER_LAUNCH,
    Stage.WEB_VERSION,
    Stage.PAGE_LOAD,
    Stage.QR_WAIT,
)
TOLERANCE = 0.15
# A stage of a few milliseconds may be off by far more than 15 % and matter to nobody.
NEGLIGIBLE_MS = 10.0


class _Quiet:
    """A RunListener that says nothing but a dot per session."""

    def run_started(self, total_sessions: int, results_paths: list[Path]) -> None:
        print(f"  {total_sessions} sessions ", end="", flush=True)

    def session_started(self, label: str, number: int, warmup: bool) -> None:
        return

    def stage_started(self, label: str, number: int, stage: str) -> None:
        return

    def session_finished(self, label: str, result: object) -> None:
        print(".", end="", flush=True)

    def warning(self, message: str) -> None:
        print(f"\n  warning: {message}")


def measure(profile_name: str, scenario_name: str, runs: int, warmup: int, into: Path) -> list[str]:
    """The table rows of one profile on one scenario."""
    base, scenario = load_profile(profile_name), load_scenario(scenario_name)
    plans = [
        RunPlan(
            profile=base.model_copy(update={"engine": engine}),
            scenario=scenario,
            runs=runs,
            warmup=warmup,
            results_path=into / f"{profile_name}-{scenario_name}-{engine}.json",
            label=str(engine),
        )
        for engine in (EngineKind.WWEBJS, EngineKind.MODEL)
    ]
    print(f"{profile_name} on {scenario_name}:", flush=True)
    asyncio.run(run_interleaved(plans, _Quiet()))
    print(flush=True)
    real, model = (run.sessions for run in load_runs([plan.results_path for plan in plans]))
    metrics = [("time-to-QR", list(real.qr_times), list(model.qr_times))] + [
        (stage.value, _durations(real.stages.get(stage)), _durations(model.stages.get(stage)))
        for stage in ENGINE_STAGES
    ]
    return [_row(profile_name, scenario_name, *metric) for metric in metrics]


def _durations(sample: StageSample | None) -> list[float]:
    return [] if sample is None else list(sample.durations)


def _row(
    profile: str, scenario: str, metric: str, real_ms: list[float], model_ms: list[float]
) -> str:
    if not real_ms or not model_ms:
        return f"| {profile} | {scenario} | {metric} | n/a | n/a | no sample |  |"
    ratio = ratio_of_medians(model_ms, real_ms)
    real_median, model_median = statistics.median(real_ms), statistics.median(model_ms)
    if ratio is None:
        return (
            f"| {profile} | {scenario} | {metric} | {real_median:,.0f} | {model_median:,.0f} "
            "| (zero median) |  |"
        )
    off = (ratio.ci_high < 1 - TOLERANCE or ratio.ci_low > 1 + TOLERANCE) and abs(
        model_median - real_median
    ) > NEGLIGIBLE_MS
    interval = f"{ratio.value:.2f} [{ratio.ci_low:.2f}, {ratio.ci_high:.2f}]"
    return (
        f"| {profile} | {scenario} | {metric} | {real_median:,.1f} | {model_median:,.1f} "
        f"| {interval} | {'off >15 %' if off else ''} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="old,new,optimized")
    parser.add_argument("--scenarios", default="lan,typical")
    parser.add_argument("--runs", type=int, default=10, help="measured sessions per engine")
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fidelity-") as directory:
        for scenario in args.scenarios.split(","):
            for profile in args.profiles.split(","):
                rows += measure(profile, scenario, args.runs, args.warmup, Path(directory))
    print()
    print(
        "| profile | scenario | metric | real median ms | model median ms "
        "| model/real [95 % CI] | |"
    )
    print("|---|---|---|---:|---:|---|---|")  # the last column flags what is off
    print("\n".join(rows))


if __name__ == "__main__":
    main()
