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
