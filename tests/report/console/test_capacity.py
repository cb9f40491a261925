"""The capacity table and the progress lines of a ramp."""

import io

from rich.console import Console

from qrbench.analysis.capacity import StepEnd
from qrbench.config.load import Load
from qrbench.report.console.capacity import RichCapacityListener, capacity_table
from tests.helpers import capacity_step


def rendered(renderable: object, width: int = 120) -> str:
    output = io.StringIO()
    Console(file=output, width=width).print(renderable)
    return output.getvalue()


def test_a_row_per_step_with_cis_memory_and_the_criterion() -> None:
    steps = [
        capacity_step(1, Load(concurrency=1), [1000.0 + n for n in range(20)]),
        capacity_step(2, Load(concurrency=2), [2000.0] * 18 + [None, None], memory=None),
        capacity_step(3, Load(concurrency=4), [3000.0] * 3, end=StepEnd.MEMORY),
    ]
    text = rendered(capacity_table("Capacity: optimized on lan", steps))
    lines = text.splitlines()
    assert "flight" in text and "p95 ms" in text and "swap" not in text
    first = next(line for line in lines if line.lstrip().startswith("1 "))
    # PSS 600 over 2 browsers: 300 a session; RSS under PSS.
    assert "20/20" in first and "1,010" in first and "600" in first and "300" in first
    assert "meets" in first and "(800)" in lines[lines.index(first) + 1]
    # Twenty sessions bound p95 from below only.
    assert any("≥" in line for line in lines)
    second = next(line for line in lines if line.lstrip().startswith("2 "))
    assert "18/20" in second and "misses" in second
    # No Chromium visible: memory is unavailable, not 0.
    assert second.count(" - ") == 2 and " 0 " not in second
    third = next(line for line in lines if line.lstrip().startswith("3 "))
    assert "cut (memory)" in third


def test_swap_is_a_column_once_a_step_used_any() -> None:
    steps = [capacity_step(1, Load(concurrency=1), [1000.0] * 3, swap_used_peak_mb=64.0)]
    assert "swap" in rendered(capacity_table("t", steps))


def test_the_listener_announces_each_step_and_its_outcome() -> None:
    output = io.StringIO()
    with RichCapacityListener(Console(file=output, width=120)) as listener:
        listener.step_started(2, Load(concurrency=4), 20)
        listener.step_finished(capacity_step(2, Load(concurrency=4), [1000.0] * 18 + [None, None]))
    text = output.getvalue()
    assert "step 2: 4 in flight, 20 sessions" in text
    assert "step 2 (4 in flight): p95 1,000 ms, misses the criterion: success 18/20 below 98%" in (
        text
    )


def test_the_table_fits_80_columns_with_its_widest_cells() -> None:
    # 80 sessions bound p95 on both sides: the widest CI cells a step can have.
    steps = [
        capacity_step(n, Load(concurrency=2 ** (n - 1)), [14000.0 + 137 * i for i in range(80)])
        for n in range(1, 6)
    ]
    lines = rendered(capacity_table("Capacity: optimized on lan", steps), width=80).splitlines()
    assert max(len(line) for line in lines) <= 80
    assert not any("…" in line for line in lines)
    assert any("18,316-20,508" in line for line in lines)
