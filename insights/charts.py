"""Bar charts drawn on the server as inline SVG: no script, no CDN, nothing to load.

Colours come from the admin's CSS variables through classes (``insights/dashboard.css``),
so the charts follow its light and dark themes. Each chart is an image to assistive
technology (``role="img"``, a label and a ``<title>`` giving the figures); a day's bar also
links to that day's list for the pointer, which the card's own link spells out for the
keyboard.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# The drawing's own units (it scales to its box).
WIDTH = 320
HEIGHT = 120
LEFT = 34  # room for the value axis' labels
RIGHT = 4
TOP = 8
BOTTOM = 20  # room for the day axis' labels
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
BAR_SHARE = 0.7  # of a day's slot; the rest is the gap between bars


@dataclass(frozen=True)
class Bar:
    """One day: its value (``None``: not measured that day), what its tooltip says, and
    the list behind it (``""``: none)."""

    day: date
    value: float | None
    label: str
    url: str = ""


def nice_maximum(value: float) -> float:
    """The top of the value axis: a power of ten or an even digit times one (2, 4, 6, 8, 10, 20,
    ...), at least ``value``, so the axis' middle label is a whole number too; 2 for an
    empty chart."""
    if value <= 2:
        return 2
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 4, 6, 8, 10) if value <= step * power)


def axis_label(value: float, unit: str) -> str:
    if value >= 1_000_000:
        text = f"{value / 1_000_000:g}M"
    elif value >= 10_000:
        text = f"{value / 1000:g}k"
    else:
        text = f"{value:g}"
    return f"{text}{unit}"


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def bar_chart(
    *,
    title: str,
    summary: str,
    bars: Sequence[Bar],
    tone: str = "",
    maximum: float | None = None,
    unit: str = "",
) -> SafeString:
    """An SVG bar chart of ``bars``, oldest first. ``title`` and ``summary`` name it to
    assistive technology; ``tone`` picks a colour class (``alert`` for failures);
    ``maximum`` fixes the value axis (100 for a percentage), else it fits the data."""
    values = [bar.value for bar in bars if bar.value is not None]
    top = maximum or nice_maximum(max(values, default=0))
    slot = PLOT_WIDTH / max(len(bars), 1)
    bar_width = slot * BAR_SHARE
    baseline = TOP + PLOT_HEIGHT
    tone_class = f" insights-bar--{tone}" if tone else ""

    columns = []
    for index, bar in enumerate(bars):
        x = LEFT + index * slot
        height = 0.0 if bar.value is None else PLOT_HEIGHT * min(bar.value / top, 1)
        # A day with a value gets at least a hairline, so a small count is not lost.
        if bar.value:
            height = max(height, 1.0)
        shapes = format_html(
            '<rect class="insights-slot" x="{}" y="{}" width="{}" height="{}"/>',
            f"{x:.2f}",
            TOP,
            f"{slot:.2f}",
            PLOT_HEIGHT,
        )
        if height:
            shapes += format_html(
                '<rect class="insights-bar{}" x="{}" y="{}" width="{}" height="{}"/>',
                tone_class,
                f"{x + (slot - bar_width) / 2:.2f}",
                f"{baseline - height:.2f}",
                f"{bar_width:.2f}",
                f"{height:.2f}",
            )
        shapes += format_html("<title>{}</title>", bar.label)
        if bar.url:
            # Out of the tab order: the card's link leads to the same list.
            columns.append(
                format_html('<a href="{}" tabindex="-1">{}</a>', bar.url, shapes)
            )
        else:
            columns.append(format_html("<g>{}</g>", shapes))

    grid = format_html_join(
        "",
        '<line class="insights-rule" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="insights-axis" x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (
                LEFT,
                WIDTH - RIGHT,
                f"{TOP + PLOT_HEIGHT * (1 - share):.2f}",
                f"{TOP + PLOT_HEIGHT * (1 - share):.2f}",
                LEFT - 4,
                f"{TOP + PLOT_HEIGHT * (1 - share) + 3:.2f}",
                axis_label(top * share, unit),
            )
            for share in (0, 0.5, 1)
        ),
    )
    days = ""
    if bars:
        days = format_html(
            '<text class="insights-axis" x="{}" y="{}" text-anchor="start">{}</text>'
            '<text class="insights-axis" x="{}" y="{}" text-anchor="end">{}</text>',
            LEFT,
            HEIGHT - 6,
            day_label(bars[0].day),
            WIDTH - RIGHT,
            HEIGHT - 6,
            day_label(bars[-1].day),
        )
    return format_html(
        '<svg class="insights-chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}{}{}</svg>",
        WIDTH,
        HEIGHT,
        f"{title}: {summary}",
        f"{title}: {summary}",
        grid,
        SafeString("".join(columns)),
        days,
    )
