"""QR images (PNG, SVG) of a check-in URL and the printable sheets that carry them."""

from __future__ import annotations

import io
import re
from datetime import datetime
from html import escape

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

from registry.italian import ROME
from registry.offload import in_worker_process


def _code(url: str, box_size: int = 10) -> qrcode.QRCode:
    # Level M survives a smudged or creased sheet while keeping the code easy to scan.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def png(url: str, box_size: int = 10) -> bytes:
    buffer = io.BytesIO()
    _code(url, box_size).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def svg(url: str) -> str:
    image = _code(url).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    text = image.to_string(encoding="unicode")
    # Sized by the page's CSS instead of a fixed size in millimetres.
    size = re.compile(r'<svg width="[^"]*" height="[^"]*"')
    return size.sub('<svg role="img" aria-label="Codice QR"', text, count=1)


# Choosing the mask and drawing the modules is pure Python (0.1-0.3 s a code): the request
# handlers render in a worker process through these, never on the event loop.


async def render_png(url: str, box_size: int = 10) -> bytes:
    return await in_worker_process(png, url, box_size)


async def render_svg(url: str) -> str:
    return await in_worker_process(svg, url)


async def render_sheet(
    *,
    url: str,
    title: str,
    holder: str,
    valid_from: datetime,
    valid_until: datetime,
    layout: str = "a4",
) -> str:
    return await in_worker_process(sheet_html, url, title, holder, valid_from, valid_until, layout)


def local(moment: datetime) -> str:
    return moment.astimezone(ROME).strftime("%d/%m/%Y %H:%M")


_CSS = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #1c2024; margin: 0; background: #fff; }
.sheet { max-width: 180mm; margin: 0 auto; padding: 8mm 0; text-align: center; }
.sheet h1 { font-size: 26pt; margin: 0 0 4mm; }
.sheet .what { font-size: 20pt; font-weight: 700; margin: 0 0 2mm; }
.sheet .who, .sheet .when { font-size: 14pt; margin: 0 0 2mm; }
.sheet .qr svg { width: 120mm; height: 120mm; margin: 6mm auto; display: block; }
.sheet ol { text-align: left; font-size: 14pt; line-height: 1.5; margin: 4mm auto;
            max-width: 150mm; }
.sheet .url { font-size: 8pt; color: #4d5661; word-break: break-all; margin-top: 6mm; }
.badge { width: 85mm; height: 54mm; border: 0.3mm solid #8a949e; border-radius: 3mm;
         display: flex; align-items: center; gap: 3mm; padding: 3mm; margin: 10mm auto;
         text-align: left; }
.badge .qr svg { width: 46mm; height: 46mm; display: block; }
.badge .text { font-size: 9pt; line-height: 1.3; overflow: hidden; }
.badge .text strong { display: block; font-size: 11pt; margin-bottom: 1mm; }
.tools { text-align: center; margin: 6mm; }
.tools button { font-size: 14pt; padding: 3mm 8mm; border-radius: 2mm; border: 0;
                background: #0059b3; color: #fff; cursor: pointer; }
@media print { .tools { display: none; } .badge { margin: 0; } }
"""


def sheet_html(
    url: str,
    title: str,
    holder: str,
    valid_from: datetime,
    valid_until: datetime,
    layout: str = "a4",
) -> str:
    """A printable page: an A4 sheet to pin at the entrance, or a credit-card-sized badge."""
    code = svg(url)
    when = f"Valido dal {local(valid_from)} al {local(valid_until)}"
    if layout == "badge":
        body = f"""
<div class="badge">
  <div class="qr">{code}</div>
  <div class="text"><strong>{escape(title)}</strong>{escape(holder)}<br>{escape(when)}<br>
  Inquadra il codice per registrare entrata e uscita.</div>
</div>"""
    else:
        body = f"""
<div class="sheet">
  <h1>Registra la tua presenza</h1>
  <p class="what">{escape(title)}</p>
  <p class="who">{escape(holder)}</p>
  <p class="when">{escape(when)}</p>
  <div class="qr">{code}</div>
  <ol>
    <li>Inquadra il codice con la fotocamera del telefono e apri il collegamento.</li>
    <li>Accedi con il tuo nome utente e la tua password del registro.</li>
    <li>Premi <b>Entrata</b> quando arrivi e <b>Uscita</b> quando vai via:
        le ore vengono registrate da sole.</li>
  </ol>
  <p class="url">{escape(url)}</p>
</div>"""
    return f"""<!doctype html>
<html lang="it"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Codice QR - {escape(title)}</title><style>{_CSS}</style></head>
<body>
<div class="tools"><button type="button" onclick="window.print()">Stampa</button></div>
{body}
</body></html>"""
