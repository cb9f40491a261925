"""The SVG pieces: text that can only be shown, ticks that fill their axis."""

import pytest

from qrbench.report.html.svg import Scale, element, nice_scale, nice_ticks, text


def test_markup_quotes_and_control_characters_from_a_file_are_only_text() -> None:
    hostile = '<script>alert(1)</script>" onload="x\u202e\x1b[31m&'
    shown = text(hostile)
    assert "<" not in shown and ">" not in shown and '"' not in shown
    assert "\u202e" not in shown and "\x1b" not in shown
    assert shown == "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onload=&quot;x[31m&amp;"


def test_attribute_values_are_escaped_and_numbers_have_fixed_digits() -> None:
    written = element("rect", {"data-stage": 'a"><script>', "x": 1.23456, "r": 3}, "")
    assert written == '<rect data-stage="a&quot;&gt;&lt;script&gt;" x="1.2" r="3"></rect>'


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.0, 10_000.0, [0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10_000.0]),
        (0.0, 11_000.0, [0.0, 5000.0, 10_000.0, 15_000.0]),
        (-450.0, 3000.0, [-1000.0, 0.0, 1000.0, 2000.0, 3000.0]),
        (0.0, 0.0, [0.0]),
    ],
)
def test_ticks_are_round_steps_that_cover_the_range(
    low: float, high: float, expected: list[float]
) -> None:
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_a_nice_scale_ends_on_its_ticks_and_maps_them_onto_the_pixels() -> None:
    scale = nice_scale(0.0, 930.0, 100.0, 600.0)
    assert (scale.low, scale.high) == (0.0, 1000.0)
    assert scale(0.0) == 100.0 and scale(1000.0) == 600.0 and scale(500.0) == 350.0
    # A y axis runs upwards: its start is the larger pixel.
    assert Scale(0.0, 1.0, 300.0, 20.0)(0.25) == 230.0
