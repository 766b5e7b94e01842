"""QR codes as inline SVG (segno: pure Python), e.g. for printed invitation links."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str) -> str:
    """An SVG QR code of ``url`` (error correction M, no XML declaration), scalable and
    labelled for screen readers with the address it encodes."""
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        scale=4,
        border=2,
        title=f"QR-Code für {url}",
        svgclass="qr",
        lineclass=None,
        omitsize=False,
    )
    # role="img": screen readers announce the <title> as the image's name.
    return out.getvalue().decode("utf-8").replace("<svg ", '<svg role="img" ', 1)
