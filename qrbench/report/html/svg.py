"""The few SVG pieces the report's charts are made of, written as text.

No plotting library: the report must open offline and be the same bytes for the same
results (a library's inlined JavaScript would be most of the file, and its output would
change with its version). Every string that may come from a results file goes through
`text`, so a profile name or an error message can only ever be shown, never run.
"""

import html
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

# Control and format characters (a bidi override reorders what is shown) never shown as
# themselves, as in report/console/safe.py; newlines are kept.
_HIDDEN_CATEGORIES = ("Cc", "Cf")


def text(value: object) -> str:
    """`value` as HTML or SVG text or attribute content: escaped, without control characters."""
    shown = "".join(
        char
        for char in str(value)
        if char == "\n" or unicodedata.category(char) not in _HIDDEN_CATEGORIES
    )
    return html.escape(shown, quote=True)


def number(value: float) -> str:
    """A coordinate: a tenth of a pixel is finer than any screen shows, and fixed digits
    keep the file the same for the same results."""
    return f"{value:.1f}"


Attributes = Mapping[str, str | float | int]


def element(tag: str, attributes: Attributes, content: str = "") -> str:
    """`<tag a="v">content</tag>`; numbers as `number`, strings escaped. `content` is
    markup already (children, or `text(...)`)."""
    written = " ".join(
        f'{name}="{number(value) if isinstance(value, float) else text(value)}"'
        for name, value in attributes.items()
    )
    return f"<{tag} {written}>{content}</{tag}>" if written else f"<{tag}>{content}</{tag}>"


def tooltip(value: object) -> str:
    """A hover text (SVG `<title>`): no script needed to read a mark's figures."""
    return element("title", {}, text(value))


@dataclass(frozen=True)
class Scale:
    """Maps values in [low, high] onto pixels [start, end] (end < start for a y axis)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        share = (value - self.low) / span if span else 0.0
        return self.start + (self.end - self.start) * share


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Steps of 1, 2 or 5 times a power of ten, from at most `low` to at least `high`."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    # `+ 0.0` turns the -0.0 of a negative step count times 0 into 0.
    return [i * step + 0.0 for i in range(first, last + 1)]


def nice_scale(low: float, high: float, start: float, end: float) -> Scale:
    """A scale over [low, high] widened to whole ticks, so the ticks fill the axis."""
    ticks = nice_ticks(low, high)
    return Scale(ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1.0, start, end)


def svg(width: float, height: float, content: str, *, css_class: str, label: str) -> str:
    """A standalone chart; `label` is what a screen reader says of it."""
    return element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": css_class,
            "width": width,
            "height": height,
            "viewBox": f"0 0 {number(width)} {number(height)}",
            "role": "img",
            "aria-label": label,
        },
        content,
    )


def axis(scale: Scale, y: float, unit: str, *, grid_to: float | None = None) -> str:
    """A horizontal axis at `y` with tick labels; with `grid_to`, light lines up to it."""
    parts = [
        element("line", {"class": "axis", "x1": scale.start, "x2": scale.end, "y1": y, "y2": y})
    ]
    for tick in nice_ticks(scale.low, scale.high):
        x = scale(tick)
        if grid_to is not None:
            parts.append(
                element("line", {"class": "grid", "x1": x, "x2": x, "y1": grid_to, "y2": y})
            )
        parts.append(
            element(
                "text",
                {"class": "tick", "x": x, "y": y + 14, "text-anchor": "middle"},
                text(_tick_label(tick, unit)),
            )
        )
    return "".join(parts)


def _tick_label(value: float, unit: str) -> str:
    if unit == "ms" and abs(value) >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} {unit}".strip()
