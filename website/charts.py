"""Server-rendered SVG bar charts, accessible and CSP-safe.

No JavaScript, no ``style`` attribute (the CSP forbids inline styles): colours are presentation
attributes. Each chart has a title and description for screen readers and is always published
with the same figures in a table beside it, so nothing depends on seeing the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

BAR_COLOUR = "#123e6b"
TEXT_COLOUR = "#1e1e1e"
GRID_COLOUR = "#d0d5dc"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


def _svg_open(width: int, height: int, chart_id: str, title: str,
              description: str) -> list[str]:
    """The opening of an accessible chart: an image role named by its title and description."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description or title)}</desc>',
    ]


def _format(value: int, formatter) -> str:
    return formatter(value) if formatter else str(value)


def horizontal_bar_chart(bars: Sequence[Bar], *, title: str, description: str = "",
                         chart_id: str, formatter=None, width: int = 640,
                         row_height: int = 28, label_width: int = 220) -> Markup:
    """A horizontal bar chart: one row per label, the value written at the end of its bar."""
    count = max(len(bars), 1)
    height = count * row_height + 10
    maximum = max((b.value for b in bars), default=0) or 1
    plot_width = width - label_width - 70
    parts = _svg_open(width, height, chart_id, title, description)
    for index, bar in enumerate(bars):
        y = index * row_height + 5
        bar_width = 0 if bar.value <= 0 else max(2, round(plot_width * bar.value / maximum))
        label = bar.label if len(bar.label) <= 32 else bar.label[:31] + "…"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row_height * 0.62:.1f}" text-anchor="end" '
            f'font-size="13" fill="{TEXT_COLOUR}">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{bar_width}" height="{row_height - 10}" '
            f'fill="{BAR_COLOUR}"/>'
            f'<text x="{label_width + bar_width + 6}" y="{y + row_height * 0.62:.1f}" '
            f'font-size="13" fill="{TEXT_COLOUR}">{escape(_format(bar.value, formatter))}</text>'
        )
    parts.append(
        f'<line x1="{label_width}" y1="0" x2="{label_width}" y2="{height}" '
        f'stroke="{GRID_COLOUR}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece went through escape()


def column_chart(bars: Sequence[Bar], *, title: str, description: str = "", chart_id: str,
                 formatter=None, width: int = 640, height: int = 260) -> Markup:
    """A vertical column chart, for series over time (one column per year or month)."""
    count = max(len(bars), 1)
    bottom, top, left = 30, 20, 10
    plot_height = height - bottom - top
    slot = (width - 2 * left) / count
    maximum = max((b.value for b in bars), default=0) or 1
    parts = [
        *_svg_open(width, height, chart_id, title, description),
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" '
        f'stroke="{GRID_COLOUR}"/>',
    ]
    for index, bar in enumerate(bars):
        column_height = 0 if bar.value <= 0 else max(1, round(plot_height * bar.value / maximum))
        x = left + index * slot + slot * 0.15
        column_width = slot * 0.7
        y = height - bottom - column_height
        centre = x + column_width / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{column_width:.1f}" height="{column_height}" '
            f'fill="{BAR_COLOUR}"/>'
            f'<text x="{centre:.1f}" y="{y - 4}" text-anchor="middle" font-size="12" '
            f'fill="{TEXT_COLOUR}">{escape(_format(bar.value, formatter))}</text>'
            f'<text x="{centre:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'font-size="12" fill="{TEXT_COLOUR}">{escape(bar.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece went through escape()
