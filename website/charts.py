"""Server-rendered bar charts, accessible, readable on any screen and CSP-safe.

Each row is a list item: the label and the value are HTML text, so they wrap, keep the reader's
text size and zoom, and stay readable on a 320 px screen (an SVG drawing scales its text down
with it: 13 px labels became 5 px). Only the bar is drawn, as an SVG rectangle whose width is a
percentage attribute: no JavaScript, no ``style`` attribute (the CSP forbids inline styles).
The bar is hidden from screen readers, which read "label value"; the page also publishes the
same figures in a table beside each chart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

BAR_COLOUR = "#123e6b"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


def _width(value: int, maximum: int) -> str:
    """The bar's share of the row, as an SVG percentage; a non-zero value stays visible."""
    if value <= 0:
        return "0%"
    return f"{max(0.5, 100 * value / maximum):.1f}%"


def bar_chart(bars: Sequence[Bar], *, chart_id: str,
              formatter: Callable[[int], str] | None = None) -> Markup:
    """A horizontal bar chart: one list item per bar (label, value, then the bar)."""
    maximum = max((b.value for b in bars), default=0) or 1
    rows = []
    for bar in bars:
        value = formatter(bar.value) if formatter else str(bar.value)
        rows.append(
            f'<li><span class="bar-label">{escape(bar.label)}</span> '
            f'<span class="bar-value">{escape(value)}</span>'
            f'<svg class="bar" aria-hidden="true" focusable="false">'
            f'<rect width="{_width(bar.value, maximum)}" height="100%" fill="{BAR_COLOUR}"/>'
            f'</svg></li>')
    return Markup(  # noqa: S704 - every text piece went through escape()
        f'<ul class="bar-chart" id="{escape(chart_id)}">{"".join(rows)}</ul>')
