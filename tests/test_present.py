"""Presentation mode from the page (issue "The first five minutes", part 3).

The real server (``python app.py``, fixtures of ``test_browser``) in Debian's
Chromium at 1280x720, a projector's size. The header's "Present" button, the key
P and Escape switch presentation mode; each switch must show in the class of
<html>, in the address bar (``present=1`` appended to the permalink, or taken
out) and in the figures, restyled in place without a reload (their base font
13 -> 17 px, ``assets/figure_style.js``). In presentation mode the phase diagram
must take at least 40 % of the screen, the read-out must sit beside it, the
other panels must be reachable by scrolling, the controls must be one click away
(a drawer) and a slider moved there must redraw the diagram. A reload of the
link restores the mode. A page that redraws with nobody touching it (the old
legend-fit loop) fails the "quiet page" check; a page whose renderer spins is
killed by the watchdog (``tests/_page_watchdog.py``) instead of hanging.
"""

from __future__ import annotations

import re

import pytest
from _page_watchdog import PageWatchdog
from test_browser import ARTIFACTS, browser, meta, page, server  # noqa: F401

from components import url_state
from components.viewstate import ViewState

pytestmark = pytest.mark.browser

W, H = 1280, 720
GRAPHS = ("phase-graph", "spectrum-graph", "memory-graph")
MIN_PHASE_AREA = 0.40  # of the viewport (the requirement)
BASE_FONT, PRESENT_FONT = 13, 17  # the figures' font: components/figures, figure_style.js

#: Every graph shows the view in the address bar without its display flags (the
#: figures' key is the permalink of the controls), and that view is not ``old``.
SHOWN_JS = """([ids, old]) => {
  const want = window.location.search.replace(/&(present|theme|hide)=[^&]*/g, '');
  if (old !== null && want === old) return false;
  return ids.every(id => {
    const s = window.rnnPanelState && window.rnnPanelState(id);
    return s && s.key === want;
  });
}"""

FONTS_JS = """(ids) => ids.map(id =>
  document.querySelector('#' + id + ' .js-plotly-plot')._fullLayout.font.size)"""

BOX_JS = """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
  return [r.left, r.top, r.width, r.height]; }"""

#: plotly_afterplot events per graph during ``ms`` milliseconds.
DRAWS_JS = """(ms) => new Promise(resolve => {
  const counts = {};
  const hooks = [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
    const id = gd.closest('[id]').id;
    counts[id] = 0;
    const hook = () => { counts[id] += 1; };
    gd.on('plotly_afterplot', hook);
    return [gd, hook];
  });
  setTimeout(() => {
    hooks.forEach(([gd, hook]) => gd.removeListener('plotly_afterplot', hook));
    resolve(counts);
  }, ms);
})"""


@pytest.fixture(autouse=True)
def watchdog(page):
    """Fail fast (and say why) if the page's renderer stops answering."""
    with PageWatchdog(what="the presentation-mode page") as dog:
        yield dog
    dog.check()


def shown(pg, old: str | None = None, timeout: float = 60_000) -> str:
    """Wait until every graph shows the permalink's view; return that permalink."""
    pg.wait_for_function(SHOWN_JS, arg=[list(GRAPHS), old], timeout=timeout, polling=50)
    return re.sub(r"&(present|theme|hide)=[^&]*", "", pg.evaluate("location.search"))


def fonts_are(pg, size: int) -> None:
    """Wait until every figure is drawn with base font ``size`` (restyled in place)."""
    pg.wait_for_function(f"(ids) => ({FONTS_JS})(ids).every(s => s === {size})",
                         arg=list(GRAPHS), timeout=10_000)


def is_present(pg) -> bool:
    return pg.evaluate("document.documentElement.classList.contains('present')")


def box(pg, sel: str) -> list[float]:
    return pg.evaluate(BOX_JS, sel)


def drawer(pg, open_: bool) -> None:
    """Wait until the side-bar drawer has slid fully in (open) or out (closed)."""
    pg.wait_for_function(
        "(open) => { const s = document.getElementById('sidebar');"
        " const left = s.getBoundingClientRect().left;"
        " return open ? getComputedStyle(s).visibility === 'visible' && left >= 0"
        " : getComputedStyle(s).visibility === 'hidden'; }", arg=open_, timeout=5000)


def check_presentation_layout(pg) -> None:
    """The phase diagram takes >= 40 % of the screen, fully in view; the read-out is
    beside it; the other panels scroll into view; the side bar is a closed drawer."""
    left, top, width, height = box(pg, "#phase-graph .js-plotly-plot")
    assert width * height >= MIN_PHASE_AREA * W * H, (width, height)
    assert left >= 0 and top >= 0 and left + width <= W and top + height <= H
    r_left, r_top, r_width, r_height = box(pg, ".p-readout")
    assert r_left >= left + width and r_top + r_height <= H  # beside it, in view
    assert pg.is_hidden("#sidebar") and pg.is_visible("#controls-button")
    assert pg.is_hidden(".dl-group") and pg.is_visible("#present-button")
    assert pg.evaluate("getComputedStyle(document.body).fontSize") == "17px"
    for panel, graph in ((".p-memory", "memory-graph"), (".p-spectrum", "spectrum-graph")):
        pg.locator(panel).scroll_into_view_if_needed()
        _, g_top, _, g_height = box(pg, f"#{graph} .js-plotly-plot")
        visible = min(g_top + g_height, H) - max(g_top, 0)
        assert visible >= min(250, g_height), (panel, g_top, g_height)
    pg.locator(".p-phase").scroll_into_view_if_needed()


def test_present_button_and_keys_switch_mode_link_and_figures(page):
    page.goto(page.base + "/")
    key = shown(page)
    button = page.get_by_role("button", name=re.compile("Present"))
    assert button.count() == 1 and button.is_visible()
    assert "Present (P)" in button.get_attribute("title")
    assert button.get_attribute("aria-pressed") == "false" and not is_present(page)
    assert page.is_visible("#sidebar") and page.is_hidden("#controls-button")
    page.evaluate("window.rnnSamePage = true")  # gone if anything reloads the page
    button.click()
    fonts_are(page, PRESENT_FONT)
    assert is_present(page) and button.get_attribute("aria-pressed") == "true"
    assert page.evaluate("location.search") == key + "&present=1"
    page.wait_for_timeout(600)  # the phase legend is placed after the first draw
    check_presentation_layout(page)
    # a quiet page: nothing redraws while nobody touches it (1.5 s, 3 graphs)
    assert page.evaluate(DRAWS_JS, 1500) == {g: 0 for g in (*GRAPHS, "train-graph")}
    page.screenshot(path=str(ARTIFACTS / "present-light.png"))
    # P (the button has the focus) leaves, P comes back, Escape leaves
    page.keyboard.press("p")
    fonts_are(page, BASE_FONT)
    assert not is_present(page) and page.evaluate("location.search") == key
    assert page.is_visible("#sidebar") and button.get_attribute("aria-pressed") == "false"
    page.keyboard.press("p")
    assert is_present(page) and page.evaluate("location.search") == key + "&present=1"
    page.keyboard.press("Escape")
    fonts_are(page, BASE_FONT)
    assert not is_present(page) and page.evaluate("location.search") == key
    # the keys belong to a slider thumb or a number box while they have the focus
    for target in ("#ctl-sigma_w [role=slider]", "#ctl-sigma_w input"):
        page.focus(target)
        page.keyboard.press("p")
        assert not is_present(page), target
    assert page.evaluate("window.rnnSamePage === true")
    # the link reproduces the mode
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("P")
    assert page.evaluate("location.search") == key + "&present=1"
    page.reload()
    assert shown(page) == key and is_present(page)
    fonts_are(page, PRESENT_FONT)
    assert button.get_attribute("aria-pressed") == "true"
    assert page.errors == [] and page.outside == []


def test_present_link_drawer_slider_and_escape_order(page):
    s = ViewState.default("minimal")
    link = url_state.encode(s)
    page.goto(page.base + "/" + link + "&present=1&theme=dark")
    assert shown(page) == link and is_present(page)
    fonts_are(page, PRESENT_FONT)
    page.wait_for_timeout(600)
    check_presentation_layout(page)
    assert page.evaluate(DRAWS_JS, 1500) == {g: 0 for g in (*GRAPHS, "train-graph")}
    page.screenshot(path=str(ARTIFACTS / "present-dark.png"))
    phase = box(page, "#phase-graph .js-plotly-plot")
    # the controls: a drawer over the page, the diagram keeps its size
    page.click("#controls-button")
    drawer(page, True)
    assert page.get_attribute("#controls-button", "aria-expanded") == "true"
    assert page.evaluate("document.activeElement.id") == "drawer-close"
    side = box(page, "#sidebar")
    assert side[0] == 0 and side[2] <= W / 2
    assert box(page, "#phase-graph .js-plotly-plot") == phase
    # Escape closes an open dropdown menu first, the drawer stays
    page.click("#ctl-preset")
    page.wait_for_selector("[role=listbox]")
    page.keyboard.press("Escape")
    page.wait_for_selector("[role=listbox]", state="detached")
    assert page.evaluate("document.documentElement.classList.contains('drawer-open')")
    page.focus("#ctl-sigma_w [role=slider]")
    page.keyboard.press("ArrowRight")  # sigma_w 2 -> 2.01 (step 0.01)
    key = shown(page, old=link)
    assert url_state.decode(key)[0].sigma_w == pytest.approx(2.01)
    assert meta(page, "phase-graph")["x"] == pytest.approx(2.01)
    assert page.evaluate("location.search").endswith("&present=1&theme=dark")
    # Escape closes the drawer first (focus back on its button), then leaves the mode
    page.keyboard.press("Escape")
    drawer(page, False)
    assert is_present(page) and page.evaluate("document.activeElement.id") == "controls-button"
    # an explanation opens beside the diagram, not over it, and Escape closes it first
    page.click("#explain-phase summary")
    page.wait_for_selector("#explain-phase .explain-card", state="visible")
    card = box(page, "#explain-phase .explain-card")
    assert card[0] >= phase[0] + phase[2], (card, phase)
    page.keyboard.press("Escape")
    page.wait_for_selector("#explain-phase .explain-card", state="hidden")
    assert is_present(page)
    page.keyboard.press("Escape")
    fonts_are(page, BASE_FONT)
    assert not is_present(page) and page.evaluate("location.search") == key + "&theme=dark"
    assert page.errors == [] and page.outside == []
