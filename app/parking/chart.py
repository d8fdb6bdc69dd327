"""A zone's occupancy as an inline SVG line chart, drawn on the server (no script, no CDN)."""

from __future__ import annotations

from datetime import datetime, timedelta

from markupsafe import Markup, escape

from app.core.clock import to_local

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 760, 260, 44, 12, 12, 30
SERIES = (("fixed", "固定车位在用", "#2563eb"), ("temporary", "临时车位在用", "#ea580c"))


def svg_chart(points: list[tuple[datetime, float, float]], *, start: datetime, end: datetime, fixed_capacity: int,
              temporary_capacity: int, tick: timedelta, tick_format: str, title: str) -> Markup:
    """Lines of fixed and temporary spaces in use from start to end (naive UTC), capacities dashed."""
    top = max(fixed_capacity, temporary_capacity, 1)
    span = (end - start).total_seconds() or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(at: datetime) -> float:
        return round(LEFT + plot_w * (at - start).total_seconds() / span, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - min(value, top) / top), 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#ddd"/>']
    for value in sorted({0, top // 2, top}):
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4}" text-anchor="end" font-size="11">{value}</text>')
    at = start
    while at <= end:
        parts.append(f'<line x1="{x(at)}" x2="{x(at)}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#f0f0f0"/>'
                     f'<text x="{x(at)}" y="{HEIGHT - 10}" text-anchor="middle" font-size="11">'
                     f'{escape(to_local(at).strftime(tick_format))}</text>')
        at += tick
    for capacity, (_key, _label, colour) in zip((fixed_capacity, temporary_capacity), SERIES, strict=True):
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(capacity)}" y2="{y(capacity)}" '
                     f'stroke="{colour}" stroke-dasharray="4 4" opacity="0.5"/>')
    for index, (key, label, colour) in enumerate(SERIES):
        coords = " ".join(f"{x(at)},{y(values[index])}" for at, *values in points)
        if coords:
            parts.append(f'<polyline class="series-{key}" fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{coords}"><title>{label}</title></polyline>')
    if not points:
        parts.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
                     'font-size="14" fill="#888">这段时间没有数据</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
