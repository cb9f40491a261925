"""Sentences about a run's own summary that are not a number in its table."""


def webhook_refusals(rejected: dict[str, int] | None) -> str | None:
    """What qrbench's webhook receiver refused, by reason; None when it refused nothing.

    A refusal means a gateway request was malformed, unsigned, stale or replayed: the run's
    webhook timings are then not those of a receiver that accepted everything.
    """
    if not rejected:
        return None
    total = sum(rejected.values())
    reasons = ", ".join(f"{reason} {count}" for reason, count in rejected.items())
    return f"the webhook receiver refused {total} request(s): {reasons}"


TRACING_DOC = "docs/tracing.md"


def otlp_refusals(refused: dict[str, int]) -> str | None:
    """What qrbench's OTLP endpoint dropped, by reason; None when it dropped nothing. A span
    of an unknown trace belongs to a request qrbench did not trace (a stop) or came after
    its session stopped waiting."""
    if not refused:
        return None
    total = sum(refused.values())
    reasons = ", ".join(f"{reason} {count}" for reason, count in refused.items())
    note = ""
    if "span of an unknown trace" in refused:
        note = " (an unknown trace's: the gateway's untraced requests, such as the stops, or late)"
    return f"the OTLP endpoint dropped {total}: {reasons}{note}"


def spans_note(kinds: int, *, shown: bool) -> str:
    """What a gateway run says of the gateway's spans: none came (black-box stages only),
    or how many kinds came and where to see them."""
    if kinds == 0:
        return (
            "the gateway sent no spans: black-box stages only (give it "
            "OTEL_EXPORTER_OTLP_ENDPOINT, which qrbench sets for a gateway it starts; "
            f"{TRACING_DOC})"
        )
    where = "above" if shown else "-v shows them"
    return f"the gateway sent {kinds} kind(s) of span for its sessions; {where}"
