"""Charts drawn on the server: an SVG image with its figures in words, bars to scale, an
axis with whole numbers, and no markup from the data."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from insights.charts import Bar, axis_label, bar_chart, nice_maximum

DAYS = [date(2026, 3, 1) + timedelta(days=offset) for offset in range(4)]


@pytest.mark.parametrize(
    ("value", "top"),
    [
        (0, 2),
        (1, 2),
        (3, 4),
        (5, 6),
        (9, 10),
        (10, 10),
        (11, 20),
        (45, 60),
        (99, 100),
        (101, 200),
        (1234, 2000),
        (999_999, 1_000_000),
    ],
)
def test_the_value_axis_ends_at_a_round_number(value: float, top: float) -> None:
    assert nice_maximum(value) == top


@pytest.mark.parametrize(
    ("value", "unit", "label"),
    [
        (0, "", "0"),
        (5, "", "5"),
        (50, "%", "50%"),
        (2000, "", "2000"),
        (20_000, "", "20k"),
        (2_000_000, "", "2M"),
    ],
)
def test_axis_labels_stay_short(value: float, unit: str, label: str) -> None:
    assert axis_label(value, unit) == label


def heights(svg: str) -> list[float]:
    return [
        float(height)
        for height in re.findall(
            r'class="insights-bar[^"]*"[^>]* height="([^"]+)"', svg
        )
    ]


def test_bars_are_drawn_to_scale_with_their_figures_in_words() -> None:
    bars = [
        Bar(day=DAYS[0], value=10, label="Mar 1: 10", url="/admin/x/?day=1"),
        Bar(day=DAYS[1], value=5, label="Mar 2: 5"),
        Bar(day=DAYS[2], value=0, label="Mar 3: 0"),
        Bar(day=DAYS[3], value=None, label="Mar 4: not measured"),
    ]

    svg = bar_chart(title="Sign-ups per day", summary="15 in 4 days", bars=bars)

    assert svg.startswith('<svg class="insights-chart"')
    assert 'role="img" aria-label="Sign-ups per day: 15 in 4 days"' in svg
    assert "<title>Sign-ups per day: 15 in 4 days</title>" in svg
    # Zero and unmeasured days draw no bar; the others are to scale (axis ends at 10).
    assert heights(svg) == [92.0, 46.0]
    for label in ("Mar 1: 10", "Mar 2: 5", "Mar 3: 0", "Mar 4: not measured"):
        assert f"<title>{label}</title>" in svg
    assert svg.count("<a ") == 1
    assert '<a href="/admin/x/?day=1" tabindex="-1">' in svg
    assert ">Mar 1</text>" in svg
    assert ">Mar 4</text>" in svg
    assert ">10</text>" in svg
    assert ">5</text>" in svg


def test_a_small_count_beside_a_large_one_stays_visible() -> None:
    bars = [
        Bar(day=DAYS[0], value=100_000, label=""),
        Bar(day=DAYS[1], value=1, label=""),
    ]

    assert heights(bar_chart(title="t", summary="s", bars=bars))[1] == 1.0


def test_a_fixed_axis_for_percentages() -> None:
    bars = [Bar(day=DAYS[0], value=25, label="25%")]

    svg = bar_chart(title="t", summary="s", bars=bars, maximum=100, unit="%")

    assert heights(svg) == [23.0]
    assert ">100%</text>" in svg
    assert ">50%</text>" in svg


def test_a_tone_picks_the_bars_colour_class() -> None:
    bars = [Bar(day=DAYS[0], value=1, label="")]

    assert 'class="insights-bar insights-bar--alert"' in bar_chart(
        title="t", summary="s", bars=bars, tone="alert"
    )


def test_text_and_links_are_escaped() -> None:
    bars = [Bar(day=DAYS[0], value=1, label="<b>", url='/x/?a=1&b="2"')]

    svg = bar_chart(title="<script>", summary="&", bars=bars)

    assert "<script>" not in svg
    assert "&lt;script&gt;: &amp;" in svg
    assert "<title>&lt;b&gt;</title>" in svg
    assert 'href="/x/?a=1&amp;b=&quot;2&quot;"' in svg


def test_an_empty_chart_still_has_its_axis() -> None:
    svg = bar_chart(title="t", summary="nothing yet", bars=[])

    assert heights(svg) == []
    assert ">2</text>" in svg
    assert "<title>t: nothing yet</title>" in svg
