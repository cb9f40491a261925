"""Numbers as qrbench writes them on the screen and in the exports."""

from qrbench.report.wording.numbers import (
    format_change_ms,
    format_ci,
    format_ms,
    format_p_value,
    format_rate,
    format_seconds,
    format_share,
)


def test_milliseconds_keep_a_decimal_only_below_ten() -> None:
    assert format_ms(3.25) == "3.2"
    assert format_ms(1234.5) == "1,234"
    assert format_seconds(1520.0) == "1.52 s"
    assert format_seconds(12_345.0) == "12.3 s"


def test_p_values_rates_and_shares() -> None:
    assert format_p_value(0.0004) == "p < 0.001"
    assert format_p_value(0.0123) == "p = 0.012"
    assert format_rate(4, 5) == "4/5 (80%)"
    assert format_rate(0, 0) == "0/0"
    assert format_share(0.456) == "46%"
    assert format_share(None) == "-"


def test_savings_are_written_the_studys_way() -> None:
    assert format_change_ms(5000.0) == "-5.00 s"
    assert format_change_ms(401.4) == "-401 ms"
    assert format_change_ms(-52.0) == "+52 ms"
    assert format_change_ms(3.25) == "-3.2 ms"
    assert format_change_ms(0.0) == "0 ms"
    assert format_ci(330.0, 480.0) == "-480 to -330 ms"
    assert format_ci(-20.0, 1200.0) == "-1.20 s to +20 ms"
