"""Small accessible SVG charts, rendered on the server (no chart library, no CDN).

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` that say what it
shows; the page puts the same figures in a table right beside it (the table is the
accessible source of truth, the chart a picture of it). Labels are drawn outside the
bars in the text colour, so their contrast does not depend on the bar colours.
"""

from __future__ import annotations

from html import escape

# Ampel colours with a pattern-free distinction by position and label, never by colour only.
AMPEL_FILL = {"rot": "#c62828", "gelb": "#f2b705", "gruen": "#2e7d32"}
AMPEL_NAME = {"rot": "Rot", "gelb": "Gelb", "gruen": "Grün"}
BAR_FILL = "#1f5f8b"
TEXT = "#1a1a1a"


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg role="img" class="chart" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def ampel_chart(title: str, rows: list[tuple[str, int, int, int]]) -> str:
    """Stacked bars, one per row ``(label, rot, gelb, gruen)``, each as shares of its total."""
    label_w, bar_w, row_h = 230, 300, 30
    height = row_h * max(len(rows), 1) + 24
    body = []
    for i, (label, *counts) in enumerate(rows):
        y = 20 + i * row_h
        body.append(
            f'<text x="0" y="{y + 14}" font-size="12" fill="{TEXT}">{escape(label[:38])}</text>'
        )
        total = sum(counts)
        x = float(label_w)
        for colour, count in zip(("rot", "gelb", "gruen"), counts, strict=True):
            if total and count:
                w = bar_w * count / total
                body.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="18" '
                    f'fill="{AMPEL_FILL[colour]}"><title>{AMPEL_NAME[colour]}: {count}</title>'
                    "</rect>"
                )
                x += w
        summary = " / ".join(str(c) for c in counts) if total else "keine Werte"
        body.append(
            f'<text x="{label_w + bar_w + 8}" y="{y + 14}" font-size="12" fill="{TEXT}">'
            f"{escape(summary)}</text>"
        )
    legend = " · ".join(f"{AMPEL_NAME[c]}" for c in ("rot", "gelb", "gruen"))
    body.append(f'<text x="{label_w}" y="12" font-size="11" fill="{TEXT}">Anteile {legend}</text>')
    desc = "; ".join(f"{r[0]}: Rot {r[1]}, Gelb {r[2]}, Grün {r[3]}" for r in rows)
    return _svg(label_w + bar_w + 90, height, title, desc, body)


def bar_chart(title: str, rows: list[tuple[str, float]], unit: str = "") -> str:
    """Horizontal bars ``(label, value)`` scaled to the largest value (values ≥ 0)."""
    label_w, bar_w, row_h = 260, 260, 26
    top = max((v for _, v in rows), default=0) or 1
    body = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        w = bar_w * max(value, 0) / top
        body.append(
            f'<text x="0" y="{y + 13}" font-size="12" fill="{TEXT}">{escape(label[:42])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="16" fill="{BAR_FILL}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" font-size="12" fill="{TEXT}">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    desc = "; ".join(f"{label}: {_number(value)}{unit}" for label, value in rows)
    return _svg(label_w + bar_w + 70, row_h * max(len(rows), 1) + 8, title, desc, body)


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")
