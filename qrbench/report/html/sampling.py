"""What a report draws of a large run, so that the page stays a few hundred KB whatever
the number of sessions (100,000 sessions made a 343 MB page, a waterfall each).

Waterfalls: every measured session up to ALL_WATERFALLS; past that the fastest, median,
p95 and slowest successful ones, and the failed ones up to FAILED_WATERFALLS. Points of a
distribution: every value up to MAX_POINTS; past that MAX_POINTS order statistics evenly
spaced by rank, the smallest and the largest among them. The page says which it drew.
"""

from collections.abc import Sequence

from qrbench.columns import MeasuredSessions

ALL_WATERFALLS = 50
FAILED_WATERFALLS = 20
MAX_POINTS = 500
# The sessions that stand for a run past ALL_WATERFALLS: (role, quantile of time-to-QR).
ROLES = (("fastest", 0.0), ("median", 0.5), ("p95", 0.95), ("slowest", 1.0))


def chosen_roles(columns: MeasuredSessions) -> dict[int, str] | None:
    """Session number -> the roles it stands for; None when every session is drawn."""
    if len(columns) <= ALL_WATERFALLS:
        return None
    times = columns.qr_times
    by_time = sorted(range(len(times)), key=times.__getitem__)
    roles: dict[int, list[str]] = {}
    for role, quantile in ROLES:
        if by_time:
            # The nearest rank: a session that ran, not an interpolated time.
            number = columns.qr_numbers[by_time[round(quantile * (len(by_time) - 1))]]
            roles.setdefault(number, []).append(role)
    return {number: ", ".join(names) for number, names in roles.items()}


def thinned(sorted_values: Sequence[float]) -> list[tuple[int, float]]:
    """(1-based rank, value) of the sorted values: all of them up to MAX_POINTS, else
    MAX_POINTS evenly spaced by rank, the first and the last included."""
    count = len(sorted_values)
    if count <= MAX_POINTS:
        return list(enumerate(sorted_values, start=1))
    ranks = sorted({round(i * (count - 1) / (MAX_POINTS - 1)) for i in range(MAX_POINTS)})
    return [(rank + 1, sorted_values[rank]) for rank in ranks]
