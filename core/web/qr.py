"""QR codes for printouts: the address of a page as an inline SVG, drawn on the server
(no script, no image request), so a printed page leads back to the page it came from."""

from __future__ import annotations

import segno


def qr_svg(url: str) -> str:
    """``url`` as a QR code: an ``<svg>`` element without XML declaration, scaled by CSS.

    Error correction "M" survives a crease or a coffee stain on paper; the quiet zone of
    four modules is kept, as scanners need it.
    """
    code = segno.make_qr(url, error="m")
    svg: str = code.svg_inline(
        omitsize=True,
        title="QR-Code der Adresse dieser Seite",
        svgclass="qr-code",
        lineclass=None,
        dark="#000",
    )
    return svg
