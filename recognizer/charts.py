"""Small charts for the admin dashboard, as inline SVG in the page.

The browser draws the text with its own fonts, so Tamil and Hindi labels show (a PNG drawn on the
server had no glyphs for them), and the dates are written in the reader's language. No JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.formats import date_format

# The drawing's own units (the SVG scales to its box): plot area inside margins for the axes' labels.
WIDTH, HEIGHT = 700, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 52, 14, 30
MAX_BAR_WIDTH = 40  # a single day is a bar, not a wall
MIN_DATE_LABEL_GAP = 70  # in the drawing's units: room for a short date in any of the languages


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass
class Tick:
    position: float
    text: str


@dataclass
class AccuracyChart:
    """What the template draws: bars (labelled per day), a line (accuracy per day) and the axes' ticks."""

    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    points: list[tuple[float, float, str]] = field(default_factory=list)
    count_ticks: list[Tick] = field(default_factory=list)
    accuracy_ticks: list[Tick] = field(default_factory=list)
    date_ticks: list[Tick] = field(default_factory=list)

    @property
    def line(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _title in self.points)


def _count_step(most: int) -> int:
    """A round step giving at most 5 gridlines up to `most`."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if most / step <= 5:
            return step
    return max(1, most // 5)


def accuracy_over_time(rows) -> AccuracyChart | None:
    """Accuracy per day as a line over the number of labelled predictions per day as bars; None for no rows.

    `rows` are selectors.AccuracyRow with a date as key, oldest first. Days without labels are gaps on a
    time axis from the first day to the last.
    """
    if not rows:
        return None
    chart = AccuracyChart()
    first, last = rows[0].key, rows[-1].key
    days = (last - first).days + 1
    plot_width = chart.plot_right - chart.plot_left
    plot_height = chart.plot_bottom - chart.plot_top
    slot = plot_width / days
    bar_width = min(slot * 0.8, MAX_BAR_WIDTH)

    def centre(day) -> float:
        return chart.plot_left + slot * ((day - first).days + 0.5)

    most = max(row.labelled for row in rows)
    step = _count_step(most)
    top_count = step * -(-most // step)  # the gridline at or above the tallest bar
    for row in rows:
        height = plot_height * row.labelled / top_count
        day_text = date_format(row.key, "SHORT_DATE_FORMAT")
        chart.bars.append(
            Bar(
                x=centre(row.key) - bar_width / 2,
                y=chart.plot_bottom - height,
                width=bar_width,
                height=height,
                title=f"{day_text}: {row.labelled}",
            )
        )
        if row.accuracy is not None:
            y = chart.plot_bottom - plot_height * row.accuracy
            chart.points.append((centre(row.key), y, f"{day_text}: {100 * row.accuracy:.0f}%"))
    chart.count_ticks = [
        Tick(chart.plot_bottom - plot_height * value / top_count, str(value)) for value in range(0, top_count + 1, step)
    ]
    chart.accuracy_ticks = [Tick(chart.plot_bottom - plot_height * p / 100, f"{p}%") for p in (0, 25, 50, 75, 100)]
    # A date under the days that have labels, leaving out those that would run into the previous one.
    for row in rows:
        if not chart.date_ticks or centre(row.key) - chart.date_ticks[-1].position >= MIN_DATE_LABEL_GAP:
            chart.date_ticks.append(Tick(centre(row.key), date_format(row.key, "j M")))
    return chart
