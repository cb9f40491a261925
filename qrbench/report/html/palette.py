"""What every chart of the report shares: its width and margins, a colour per stage and
per run, the stages' order, and the target line."""

from collections.abc import Sequence

from qrbench.records import Stage
from qrbench.report.html.svg import element, text
from qrbench.report.wording.numbers import format_seconds

WIDTH = 860
LABEL_WIDTH = 190
RIGHT_MARGIN = 30
AXIS_HEIGHT = 30

# One colour per stage, in path order (Okabe-Ito first: told apart with colour blindness).
_STAGE_COLOURS = dict(
    zip(
        [stage.value for stage in Stage],
        [
            "#999999",
            "#e69f00",
            "#56b4e9",
            "#009e73",
            "#0072b2",
            "#d55e00",
            "#cc79a7",
            "#f0e442",
            "#882255",
            "#44aa99",
            "#332288",
            "#aa4499",
            "#117733",
            "#ddcc77",
            "#661100",
        ],
        strict=True,
    )
)
_UNKNOWN_STAGE_COLOUR = "#bbbbbb"
RUN_COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"]


def stage_colour(name: str) -> str:
    return _STAGE_COLOURS.get(name, _UNKNOWN_STAGE_COLOUR)


def run_colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


def stage_order(names: Sequence[str]) -> list[str]:
    """Known stages in path order, then any other name in the order given."""
    known = [stage.value for stage in Stage if stage.value in names]
    return known + [name for name in dict.fromkeys(names) if name not in known]


# --- waterfall -------------------------------------------------------------------------


def target_line(x: float, top: float, bottom: float, target_ms: float) -> str:
    return element(
        "g",
        {"class": "target-line"},
        element("line", {"x1": x, "x2": x, "y1": top, "y2": bottom})
        + element(
            "text",
            # Left of the line: the target is often the axis's right end.
            {"x": x - 4, "y": top + 8, "text-anchor": "end"},
            text(f"target {format_seconds(target_ms)}"),
        ),
    )
