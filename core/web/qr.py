"""QR codes as SVG drawn on the server (segno: pure Python): inline for the address of a
result on its printout and the invitation links of a run, as a document for the
Merkliste handout (``/merkliste/qr.svg``)."""

from __future__ import annotations

import io

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


def qr_svg_document(url: str) -> str | None:
    """The QR code of ``url`` as an SVG document (black on white, scalable, no size: the
    handout sizes it), or None if the URL is too long for a QR code."""
    try:
        code = segno.make_qr(url, error="m")
    except segno.DataOverflowError:
        return None
    out = io.BytesIO()
    code.save(out, kind="svg", scale=1, border=2, omitsize=True, light="#fff", title="QR-Code")
    return out.getvalue().decode()
