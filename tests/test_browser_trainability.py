"""The Trainability panel in Chromium (the real server, fixtures of ``test_browser``).

At 1280x720: the panel draws the shipped map with the two theory curves, the view
toggle switches it to "measured vs predicted", to the training curves and back, the
choice is in the
address bar and a reload of that link restores it, and the page logs no console
error. At phone size (390x844): the page with the panel does not scroll sideways and
the panel's graph has the screen's width. Screenshots: ``test-artifacts/``,
``docs/screenshot-trainability.png`` and ``docs/screenshot-training-curves.png``.
"""

from __future__ import annotations

import pytest
from _page_watchdog import PageWatchdog
from test_browser import ARTIFACTS, ROOT, browser, page, server  # noqa: F401

pytestmark = pytest.mark.browser
SHIPPED_CURVES = any((ROOT / "data" / "trainability" / "dynamics").glob("*.json.gz"))

#: The trainability figure's state once it shows ``view`` with data.
DRAWN_JS = """(view) => {
  const s = window.rnnPanelState && window.rnnPanelState('train-graph');
  const gd = document.querySelector('#train-graph .js-plotly-plot');
  return Boolean(s && s.panel === 'trainability' && s.view === view && gd && gd.data &&
                 gd.data.length > 0 && (view !== 'map' || s.curves));
}"""


def drawn(pg, view: str) -> dict:
    """Wait until the panel shows ``view``; return its state and its traces' names."""
    pg.wait_for_function(DRAWN_JS, arg=view, timeout=60_000, polling=50)
    return pg.evaluate("""() => ({state: window.rnnPanelState('train-graph'),
        traces: document.querySelector('#train-graph .js-plotly-plot').data
                .map(t => t.meta || null)})""")


def test_panel_draws_switches_view_and_keeps_it_in_the_link(page):  # noqa: F811
    with PageWatchdog(what="the trainability panel") as dog:
        page.goto(page.base + "/")
        got = drawn(page, "map")
        assert got["state"]["map"] == "vanilla_sigma_w" and got["state"]["step"] == 1000
        assert {"accuracy", "fit", "k6", "drifted"} <= set(got["traces"])
        panel = page.locator("#wrap-trainability")
        panel.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        panel.screenshot(path=str(ROOT / "docs" / "screenshot-trainability.png"))
        caption = page.inner_text("#train-caption")
        assert "k = 14.3 [11.6, 17.3] at 1000 steps" in caption
        assert "python -m trainability sweep" in caption
        assert "tview" not in page.evaluate("location.search")  # defaults stay out
        # named controls (assets/a11y.js): a radio group, not Dash's bare listbox
        assert page.get_attribute("#train-view", "role") == "radiogroup"
        assert page.get_attribute("#train-map", "aria-labelledby")

        page.click("#train-view label:has-text('Measured vs predicted')")
        got = drawn(page, "scatter")
        assert "vanilla_sigma_w" in got["traces"] and "threshold" in got["traces"]
        page.wait_for_function("() => location.search.includes('tview=scatter')",
                               timeout=10_000)
        link = page.evaluate("location.href")
        assert "sigma_w=" in link  # the view's own keys are kept beside the panel's
        page.screenshot(path=str(ARTIFACTS / "trainability-scatter.png"))

        page.goto(link)
        drawn(page, "scatter")
        assert page.is_checked("#train-view input[value=scatter]")

        page.click("#train-view label:has-text('Training curves')")
        page.wait_for_function("() => location.search.includes('tview=dynamics')",
                               timeout=10_000)
        if SHIPPED_CURVES:
            got = drawn(page, "dynamics")
            lines = [t for t in got["traces"] if t and t.endswith(("orthogonal", "gaussian"))]
            assert len(lines) == 2 * 4 * len(got["state"]["T"])  # archs x configs x T
            assert "paper" in page.inner_text("#train-caption")
            panel.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            panel.screenshot(path=str(ROOT / "docs" / "screenshot-training-curves.png"))
        else:  # a clear message, not a blank panel
            page.wait_for_function("""() => document.querySelector('#train-caption')
                .innerText.includes('No training curves are shipped')""", timeout=60_000)
        page.click("#train-view label:has-text('Accuracy map')")
        drawn(page, "map")
        page.wait_for_function("() => !location.search.includes('tview')", timeout=10_000)
    dog.check()
    assert page.errors == [] and page.outside == []


def test_phone_page_with_the_panel_does_not_scroll_sideways(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    with PageWatchdog(what="the phone page with the trainability panel") as dog:
        pg.goto(server + "/")
        drawn(pg, "map")
        pg.locator("#wrap-trainability").scroll_into_view_if_needed()
        pg.wait_for_timeout(500)
        got = pg.evaluate("""() => {
            const gd = document.querySelector('#train-graph .js-plotly-plot');
            const r = gd.getBoundingClientRect();
            return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                    width: r.width, height: r.height, drawn: gd._fullLayout.width};
        }""")
        pg.screenshot(path=str(ARTIFACTS / "phone-trainability.png"))
    context.close()
    dog.check()
    assert got["scroll"] <= got["inner"] == 390, got
    assert got["width"] >= 0.9 * 390 and got["height"] >= 250, got
    assert abs(got["drawn"] - got["width"]) <= 2, got
    assert errors == []
