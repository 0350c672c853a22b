"""The SVG charts' geometry: where the points and bars land, what they are labelled."""

from __future__ import annotations

from datetime import date

from app.reports.charts import HEIGHT, Bar, coverage_bars, trend_chart
from app.reports.services import CoverageRow, TrendPoint
from app.requirements.models import Requirement

BASELINE = 188.0  # HEIGHT - BOTTOM: the 0 % line; 24.0 (TOP) is the 100 % line


def test_a_trend_needs_two_points_with_people_in_scope():
    assert trend_chart([]) is None
    assert trend_chart([TrendPoint(date(2026, 1, 1), 10, 5)]) is None
    assert (
        trend_chart([TrendPoint(date(2026, 1, 1), 10, 5), TrendPoint(date(2026, 2, 1), 0, 0)])
        is None
    )


def test_the_trend_spans_the_width_from_zero_to_a_hundred_percent():
    chart = trend_chart(
        [
            TrendPoint(date(2026, 1, 1), 10, 5),
            TrendPoint(date(2026, 2, 1), 0, 0),  # nobody in scope: left out
            TrendPoint(date(2026, 3, 1), 4, 4),
            TrendPoint(date(2026, 4, 1), 4, 0),
        ]
    )
    assert chart is not None
    assert [(m.label, m.value) for m in chart.marks] == [
        ("01/26", 50.0),
        ("03/26", 100.0),
        ("04/26", 0.0),
    ]
    assert chart.points == "44.0,106.0 334.0,24.0 624.0,188.0"
    assert chart.baseline == BASELINE and chart.height == HEIGHT
    assert chart.grid == [(188.0, 0), (147.0, 25), (106.0, 50), (65.0, 75), (24.0, 100)]


def test_bars_per_department_leave_out_the_total_and_the_unknown(db, make):
    first, second, empty = (make.department(name=n) for n in ("Bürgeramt", "Kita", "Leer"))
    basis = Requirement(name="Basis")  # one requirement's chart; not stored

    def row(department, in_scope, covered):
        return CoverageRow(department, basis, in_scope, 0, 0, 0, 0, 0, covered)

    rows = [row(None, 8, 6), row(first, 4, 3), row(empty, 0, 0), row(second, 4, 1)]
    chart = coverage_bars(rows)
    assert chart is not None
    assert chart.bars == [
        Bar(y=4, width=270.0, label="Bürgeramt", value=75.0),
        Bar(y=30, width=90.0, label="Kita", value=25.0),
    ]
    assert (chart.width, chart.height) == (650, 60)
    assert coverage_bars([row(None, 8, 6), row(first, 4, 3)]) is None
