"""The overview's chart, drawn on the server: saved, dropped and failed per hour as stacked bars,
as geometry the template writes out as SVG (no script, no library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feedd.web.queries import HourCounts

WIDTH = 960
HEIGHT = 260
_LEFT = 44
_BOTTOM = 28
_TOP = 10
#: Bottom to top in each bar.
SERIES = ("saved", "dropped", "failed")


@dataclass(frozen=True, slots=True)
class Bar:
    """One series' part of one hour's bar."""

    series: str
    x: float
    y: float
    width: float
    height: float
    #: What a pointer over it shows (the SVG <title>).
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    #: The plot's left edge and its baseline.
    left: int
    baseline: int
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    peak: int


def hourly_chart(hours: Sequence[HourCounts]) -> Chart:
    """Stacked bars, one per hour, scaled to the busiest hour; a tick on the y axis at round
    numbers, and on the x axis at each day's midnight (UTC)."""
    baseline = HEIGHT - _BOTTOM
    plot_height = baseline - _TOP
    slot = (WIDTH - _LEFT) / max(len(hours), 1)
    peak = max((hour.saved + hour.dropped + hour.failed for hour in hours), default=0)
    scale_top = _round_up(peak)
    bars = []
    x_ticks = []
    for index, hour in enumerate(hours):
        x = _LEFT + index * slot
        stacked = 0
        for series in SERIES:
            count = getattr(hour, series)
            if count:
                top = baseline - (stacked + count) * plot_height / scale_top
                height = count * plot_height / scale_top
                label = f"{hour.hour:%Y-%m-%d %H:00} UTC: {count} {series}"
                bars.append(
                    Bar(
                        series,
                        round(x + 1, 2),
                        round(top, 2),
                        round(max(slot - 2, 1), 2),
                        round(height, 2),
                        label,
                    )
                )
                stacked += count
        if hour.hour.hour == 0:
            x_ticks.append(Tick(round(x, 2), f"{hour.hour:%b %d}"))
    y_ticks = tuple(
        Tick(round(baseline - value * plot_height / scale_top, 2), str(value))
        for value in range(0, scale_top + 1, max(scale_top // 4, 1))
    )
    return Chart(WIDTH, HEIGHT, _LEFT, baseline, tuple(bars), y_ticks, tuple(x_ticks), peak)


def _round_up(peak: int) -> int:
    """The top of the scale: 4, or the peak rounded up to 1, 2 or 5 times a power of ten, so
    that its quarters are round."""
    if peak <= 4:
        return 4
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor * 4 >= peak:
                return step * factor * 4
        step *= 10
