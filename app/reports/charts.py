"""Chart geometry for server-rendered SVG (no scripts: the pages' CSP forbids inline ones)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.reports.services import CoverageRow, TrendPoint

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 228, 44, 16, 24, 40


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: str  # for <polyline points="…">
    marks: list[Mark]
    grid: list[tuple[float, int]]  # (y, percent) of the horizontal lines
    baseline: float


def trend_chart(points: Sequence[TrendPoint]) -> LineChart | None:
    """A coverage-over-time line (0–100 %), each point labelled with its value and month."""
    known = [
        (point.taken_on, percent)
        for point in points
        if (percent := point.coverage_percent) is not None
    ]
    if len(known) < 2:
        return None
    inner_width = WIDTH - LEFT - RIGHT
    inner_height = HEIGHT - TOP - BOTTOM
    step = inner_width / (len(known) - 1)
    marks = [
        Mark(
            x=round(LEFT + n * step, 1),
            y=round(TOP + inner_height * (1 - percent / 100), 1),
            value=percent,
            label=taken_on.strftime("%m/%y"),
        )
        for n, (taken_on, percent) in enumerate(known)
    ]
    grid = [(round(TOP + inner_height * (1 - pct / 100), 1), pct) for pct in (0, 25, 50, 75, 100)]
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        points=" ".join(f"{m.x},{m.y}" for m in marks),
        marks=marks,
        grid=grid,
        baseline=TOP + inner_height,
    )


@dataclass(frozen=True)
class Bar:
    y: float
    width: float
    label: str
    value: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bar_area: int
    bars: list[Bar]


def coverage_bars(rows: Sequence[CoverageRow]) -> BarChart | None:
    """Coverage per department as horizontal bars, each with its name and value written out."""
    shown = [
        (row.department.name, percent)
        for row in rows
        if row.department is not None and (percent := row.coverage_percent) is not None
    ]
    if len(shown) < 2:
        return None
    label_width, bar_area, row_height = 220, 360, 26
    bars = [
        Bar(
            y=n * row_height + 4,
            width=round(bar_area * percent / 100, 1),
            label=name,
            value=percent,
        )
        for n, (name, percent) in enumerate(shown)
    ]
    return BarChart(
        width=label_width + bar_area + 70,
        height=len(bars) * row_height + 8,
        label_width=label_width,
        bar_area=bar_area,
        bars=bars,
    )
