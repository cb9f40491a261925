"""A large run's report stays small: the waterfall draws the sessions that stand for the
run and the first failed ones, distributions draw evenly spaced order statistics, and the
page says so; the figures stay over every session."""

import itertools
import json
import random
from pathlib import Path

from qrbench.report.html import page, sampling
from qrbench.report.html.parts import run_data, runs_part
from tests.helpers import results_document


def _large_file(tmp_path: Path, count: int, failed_every: int = 0) -> tuple[Path, list[float]]:
    rng = random.Random(7)
    times: list[float | None] = [round(rng.lognormvariate(7.0, 0.2), 1) for _ in range(count)]
    if failed_every:
        times = [None if i % failed_every == 0 else t for i, t in enumerate(times, 1)]
    path = tmp_path / "large.json"
    path.write_text(json.dumps(results_document("optimized", times)))
    return path, [t for t in times if t is not None]


def test_a_small_run_draws_every_session(tmp_path: Path) -> None:
    path, _ = _large_file(tmp_path, sampling.ALL_WATERFALLS)
    run = run_data(path)
    assert run.roles is None and len(run.sessions) == sampling.ALL_WATERFALLS
    html = page.render("r", [runs_part([run])])
    assert html.count('class="waterfall-row"') == sampling.ALL_WATERFALLS
    assert "sessions drawn" not in html and "evenly spaced by rank" not in html


def test_a_large_run_draws_the_sessions_that_stand_for_it(tmp_path: Path) -> None:
    path, times = _large_file(tmp_path, 3000, failed_every=100)
    run = run_data(path)
    assert run.roles is not None
    by_role = {role: number for number, role in run.roles.items()}
    ordered = sorted(times)
    drawn = {session.number: session for session in run.sessions}
    assert drawn[by_role["fastest"]].time_to_qr_ms == ordered[0]
    assert drawn[by_role["slowest"]].time_to_qr_ms == ordered[-1]
    assert drawn[by_role["median"]].time_to_qr_ms == ordered[round(0.5 * (len(ordered) - 1))]
    assert drawn[by_role["p95"]].time_to_qr_ms == ordered[round(0.95 * (len(ordered) - 1))]
    failed = [session for session in run.sessions if not session.ok]
    assert len(failed) == sampling.FAILED_WATERFALLS  # of the 30 failed
    assert [s.number for s in failed] == [100 * i for i in range(1, 21)]
    # The columns are still every session's.
    assert len(run.saved.columns) == 3000 and run.saved.columns.succeeded == 2970

    html = page.render("r", [runs_part([run])])
    assert html.count('class="waterfall-row"') == 4
    assert html.count('class="waterfall-row failed"') == sampling.FAILED_WATERFALLS
    said = " ".join(html.split())
    assert "24 of 3,000 sessions drawn" in said and "the first 20 of 30 failed" in said
    assert f"drawn from {sampling.MAX_POINTS:,} of them evenly spaced by rank" in said
    assert html.count('class="ecdf-step"') == sampling.MAX_POINTS
    assert "#" + str(by_role["p95"]) + " p95" in html


def test_thinning_keeps_the_ends_and_spaces_the_ranks_evenly() -> None:
    values = [float(v) for v in range(10_000)]
    drawn = sampling.thinned(values)
    assert len(drawn) == sampling.MAX_POINTS
    assert drawn[0] == (1, 0.0) and drawn[-1] == (10_000, 9999.0)
    steps = {b[0] - a[0] for a, b in itertools.pairwise(drawn)}
    assert steps <= {19, 20, 21}
    small = [3.0, 1.0, 2.0]
    assert sampling.thinned(small) == [(1, 3.0), (2, 1.0), (3, 2.0)]
