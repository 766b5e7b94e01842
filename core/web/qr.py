"""QR codes as inline SVG drawn on the server (segno: pure Python; no script, no image
request): the address of a result on its printout, invitation links of a run."""

from __future__ import annotations

import segno


def qr_svg(url: str, *, title: str | None = None, svgclass: str = "qr-code") -> str:
    """``url`` as a QR code: an ``<svg role="img">`` without XML declaration, sized by CSS,
    named for screen readers by its ``<title>`` (default: the address it encodes).

    Error correction "M" survives a crease or a coffee stain on paper; the quiet zone of
    four modules is kept, as scanners need it.
    """
    code = segno.make_qr(url, error="m")
    svg: str = code.svg_inline(
        omitsize=True,
        title=title or f"QR-Code für {url}",
        svgclass=svgclass,
        lineclass=None,
        dark="#000",
    )
    # role="img": screen readers announce the <title> as the image's name.
    return svg.replace("<svg ", '<svg role="img" ', 1)
