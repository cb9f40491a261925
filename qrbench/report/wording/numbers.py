"""Numbers as qrbench writes them: milliseconds, seconds, factors, p-values, savings."""


def format_ms(value: float) -> str:
    # Sub-10 ms stages (auth, cache lookups) would all read "0" without a decimal.
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def format_seconds(value_ms: float) -> str:
    seconds = value_ms / 1000
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:,.1f} s"


def format_factor(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:,.1f}"


def format_p_value(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.2g}"


def format_bare_p(p_value: float) -> str:
    """A p value in a column or after a name that says it is one: `< 0.001`, `0.016`."""
    return "< 0.001" if p_value < 0.001 else f"{p_value:.2g}"


def format_rate(succeeded: int, measured: int) -> str:
    """`9/10 (90%)`; `0/0` when nothing was measured."""
    if not measured:
        return "0/0"
    return f"{succeeded}/{measured} ({succeeded / measured:.0%})"


def format_change_ms(saving_ms: float, *, unit: bool = True) -> str:
    """A saving written the study's way, as the change in time-to-QR: `-401 ms`, `-5.02 s`."""
    change = -saving_ms
    size = abs(change)
    sign = "" if size == 0 else "-" if change < 0 else "+"
    if size >= 1000:
        return f"{sign}{size / 1000:.2f}" + (" s" if unit else "")
    # Sub-10 ms changes (a DB write, a cache lookup) would all read "0" without a decimal.
    number = f"{sign}{size:.1f}" if 0 < size < 10 else f"{sign}{size:.0f}"
    return number + (" ms" if unit else "")


def format_ci(low_ms: float, high_ms: float) -> str:
    """A saving's CI as changes, the larger saving first: `-520 to -380 ms`."""
    same_unit = (abs(low_ms) >= 1000) == (abs(high_ms) >= 1000)
    return f"{format_change_ms(high_ms, unit=not same_unit)} to {format_change_ms(low_ms)}"


def format_share(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"
