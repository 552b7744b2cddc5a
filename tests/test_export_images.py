"""Every figure downloads as SVG and as PNG, named after the parameters (issue 5).

The panels' SVG and PNG buttons (components/layout.py ``_downloads``, handled
in assets/filenames.js) are pressed for the phase diagram, the memory panel and
the spectrum at a view that is not the default one. Checked for each file:

* the name is ``export.file_stem(view) + "_<panel>.<svg|png>"``, the stem the
  CSV/JSON export uses, and the modebar's own download button has the same stem;
* the PNG starts with the PNG signature and its IHDR chunk gives twice the
  graph's on-screen size in pixels (``PNG_SCALE`` = 2 in filenames.js; the
  on-screen size is read from the page independently of the script);
* the SVG parses as XML, has the graph's size, and shows this view's numbers
  (the phase diagram's title carries xi_jac from the theory API, 4 digits).

A PNG is also downloaded with the keyboard alone (focus + Enter).
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_browser import browser, page, server, settle  # noqa: F401

import theory
from components import export, ids, layout, url_state
from components.viewstate import ViewState

pytestmark = pytest.mark.browser

VIEW = ViewState().replace(sigma_w=1.37, sigma_b=0.35, T=20)
PANELS = ("phase", "memory", "spectrum")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_SCALE = 2

SIZE_JS = """(id) => {
  const r = document.querySelector('#' + id + ' .js-plotly-plot').getBoundingClientRect();
  return [Math.round(r.width), Math.round(r.height)];
}"""
MODEBAR_NAME_JS = """(id) => document.querySelector('#' + id + ' .js-plotly-plot')
  ._context.toImageButtonOptions.filename"""


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk (the first chunk, right after the signature)."""
    assert data[:8] == PNG_SIGNATURE, data[:8]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def _download(pg, selector: str, keyboard: bool = False) -> tuple[str, bytes]:
    with pg.expect_download(timeout=30_000) as info:
        if keyboard:
            pg.focus(selector)
            pg.keyboard.press("Enter")
        else:
            pg.click(selector)
    d = info.value
    return d.suggested_filename, Path(d.path()).read_bytes()


def test_each_figure_downloads_as_svg_and_png_named_after_the_view(page):
    link = url_state.encode(VIEW)
    page.goto(page.base + "/" + link)
    assert settle(page) == link
    stem = export.file_stem(VIEW)
    assert stem == "rnn_vanilla_tanh_orthogonal_sw1.37_sb0.35_mb0_sv0.5_R1_S0_T20"
    xi = theory.point(VIEW.params("vanilla")).xi_jac
    for panel in PANELS:
        graph = layout.FIGURES[panel][0]
        width, height = page.evaluate(SIZE_JS, graph)
        assert page.evaluate(MODEBAR_NAME_JS, graph) == f"{stem}_{panel}"
        name, svg = _download(page, "#" + ids.download(panel, "svg"))
        assert name == f"{stem}_{panel}.svg"
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
        assert (float(root.get("width")), float(root.get("height"))) == (width, height)
        text = " ".join(t for t in root.itertext())
        if panel == "phase":
            assert f"= {xi:.4g} at ★" in text, text[:300]
        name, png = _download(page, "#" + ids.download(panel, "png"))
        assert name == f"{stem}_{panel}.png"
        assert png_size(png) == (PNG_SCALE * width, PNG_SCALE * height), panel
    name, png = _download(page, "#" + ids.download("spectrum", "png"), keyboard=True)
    assert name == f"{stem}_spectrum.png" and png[:8] == PNG_SIGNATURE
    assert page.errors == [] and page.outside == []
