"""The spans across a run's sessions (a traced gateway's, the replica page's own work):
each span, known by its path of names from its trace's top, summarised where it starts
and how long it takes (docs/tracing.md, docs/replica.md)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from qrbench.analysis.stats import MetricSummary, summarize
from qrbench.records import SessionResult, SpanTiming


@dataclass(frozen=True)
class SpanRow:
    # Its name and its ancestors' from the top: the same path in every session is one row.
    path: tuple[str, ...]
    # The stage it started in, in most sessions.
    stage: str | None
    service: str
    sessions: int
    start_ms: float  # median, on the session's clock
    duration: MetricSummary

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def depth(self) -> int:
        return len(self.path) - 1


def span_rows(sessions: Sequence[SessionResult]) -> list[SpanRow]:
    """One row per span path, in order of median start, over the measured sessions that
    showed their QR. A path met more than once in a session counts its first."""
    starts: dict[tuple[str, ...], list[float]] = defaultdict(list)
    durations: dict[tuple[str, ...], list[float]] = defaultdict(list)
    stages: dict[tuple[str, ...], list[str | None]] = defaultdict(list)
    services: dict[tuple[str, ...], str] = {}
    for session in sessions:
        if session.warmup or not session.ok:
            continue
        seen: set[tuple[str, ...]] = set()
        for span, path in _with_paths(session.spans):
            if path in seen:
                continue
            seen.add(path)
            starts[path].append(span.start_ms)
            durations[path].append(span.duration_ms)
            stages[path].append(span.stage)
            services.setdefault(path, span.service)
    rows = []
    for path, times in starts.items():
        summary = summarize(durations[path])
        assert summary is not None  # every path has a duration
        named = stages[path]
        rows.append(
            SpanRow(
                path=path,
                stage=max(set(named), key=lambda stage: (named.count(stage), stage or "")),
                service=services[path],
                sessions=len(times),
                start_ms=median(times),
                duration=summary,
            )
        )
    return sorted(rows, key=lambda row: (row.start_ms, row.depth))


def with_depths(spans: Sequence[SpanTiming]) -> list[tuple[SpanTiming, int]]:
    """Each span with how deep it nests: 0 for one made in qrbench's request's context."""
    return [(span, len(path) - 1) for span, path in _with_paths(spans)]


def _with_paths(spans: Sequence[SpanTiming]) -> list[tuple[SpanTiming, tuple[str, ...]]]:
    by_id = {span.span_id: span for span in spans}
    paths: dict[str, tuple[str, ...]] = {}

    def path_of(span: SpanTiming, seen: frozenset[str] = frozenset()) -> tuple[str, ...]:
        if span.span_id in paths:
            return paths[span.span_id]
        parent = by_id.get(span.parent_span_id or "")
        # A parent not received (or a cycle a broken exporter made) starts a path anew.
        cyclic = parent is not None and parent.span_id in seen | {span.span_id}
        above = () if parent is None or cyclic else path_of(parent, seen | {span.span_id})
        paths[span.span_id] = (*above, span.name)
        return paths[span.span_id]

    return [(span, path_of(span)) for span in spans]
