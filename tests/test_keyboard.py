"""Keyboard-only use of the page (issue 5, accessibility).

The controls are read from the page itself: every visible element that takes
the focus (buttons, inputs, slider thumbs, dropdowns, disclosure summaries,
links, anything with a tabindex), and the ids in ``components/ids.py`` (and the
figures and explanations of the layout) must each hold at least one of them, so
a control that cannot take the focus at all is missed by neither list. Pressing
Tab from the top of the page must then reach every one of them (for a radio
group: one of its buttons, the arrows move inside the group), each with a
visible focus mark, and Chromium must give each an accessible name. The slider
and the preset dropdown are then used with the keyboard alone, and the figure
and read-out must follow.
"""

from __future__ import annotations

import pytest
from test_browser import browser, meta, page, server, settle, thumb_value  # noqa: F401

import theory
from components import explain, ids, layout, specs, url_state
from theory import presets

pytestmark = pytest.mark.browser

#: Every control the layout defines by id (the figures' download buttons and the
#: panels' explanations included); each must contain a keyboard stop.
CONTROL_IDS = [
    ids.COPY_LINK, ids.PRESET, ids.RESET, ids.MODE, ids.COMPARE, ids.PHI, ids.WEIGHTS,
    # the advanced sliders sit in the collapsed "Advanced" section (its summary is the
    # stop) and are disabled in this vanilla view: the GRU/LSTM values do not apply
    *(ids.control(name) for name in specs.SLIDERS if name not in specs.ADVANCED_SLIDERS),
    ids.ADVANCED, ids.PLANE, ids.FIELD, ids.GRID_N,
    ids.N, ids.SEED, ids.EXPORT_DATASET, ids.EXPORT_CSV, ids.EXPORT_JSON,
    ids.SAMPLE_BUTTON, ids.CLEAR_BUTTON, ids.SIMULATE_BUTTON, ids.SIMULATE_CLEAR,
    *(ids.download(panel, fmt) for panel in layout.FIGURES for fmt in ("svg", "png")),
    *(f"explain-{panel}" for panel in explain.TEXT), "snippet-box", "cite-box",
]

#: Marks every focusable, visible element with data-kbd="<index>"; returns, per
#: element, its group (radio buttons of one name form one stop) and a description.
CANDIDATES_JS = """() => {
  const sel = 'button, input, select, textarea, summary, a[href], [role=slider], [tabindex]';
  const out = [];
  document.querySelectorAll(sel).forEach(el => {
    const tabindex = el.getAttribute('tabindex');
    // Dash 4 dropdown: a hidden input takes the Tab and hands the focus to the
    // button (tabindex -1), which is the control the user sees
    const handedOn = el.matches('button.dash-dropdown');
    if (el.disabled || el.getAttribute('aria-hidden') === 'true' ||
        (tabindex === '-1' && !handedOn) ||
        !el.checkVisibility({visibilityProperty: true})) return;
    el.setAttribute('data-kbd', String(out.length));
    const group = el.type === 'radio' ? 'radio:' + el.name : 'el:' + out.length;
    const host = el.closest('[id]');
    out.push({group: group, what: el.tagName + '#' + (el.id || '') + ' in ' +
              (host ? host.id : '?') + ' ' + (el.textContent || '').trim().slice(0, 30)});
  });
  return out;
}"""

CONTAINS_JS = """(id) => {
  const host = document.getElementById(id);
  return host !== null && (host.matches('[data-kbd]') || host.querySelector('[data-kbd]') !== null);
}"""

#: The focused element: its data-kbd, and whether its focus is visible (an
#: outline of >= 2 px, or a box shadow it does not have unfocused), with every
#: ancestor's opacity > 0 (Plotly's modebar hides itself until hovered).
FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const cs = getComputedStyle(el);
  let opacity = 1;
  for (let a = el; a && a.nodeType === 1; a = a.parentElement) {
    opacity *= parseFloat(getComputedStyle(a).opacity);
  }
  const r = el.getBoundingClientRect();
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 &&
                  !/rgba\\(.*, 0\\)$/.test(cs.outlineColor);
  const shadow = cs.boxShadow !== 'none' && cs.boxShadow !== el.dataset.kbdShadow;
  return {kbd: el.getAttribute('data-kbd'), visible: (outline || shadow) && opacity > 0.5 &&
          r.width > 0 && r.height > 0, what: el.tagName + '#' + el.id + ' ' +
          cs.outlineStyle + ' ' + cs.outlineWidth + ' opacity ' + opacity.toFixed(2)};
}"""

#: The box shadow of each element while not focused (slider thumbs have one always).
SHADOWS_JS = """() => document.querySelectorAll('[data-kbd]').forEach(
  el => { el.dataset.kbdShadow = getComputedStyle(el).boxShadow; })"""


def _wait_for_controls(pg) -> None:
    pg.wait_for_function("(list) => list.every(id => document.getElementById(id) !== null)",
                         arg=CONTROL_IDS, timeout=30_000)
    pg.wait_for_function("() => document.querySelector('#ctl-preset.dash-dropdown') !== null",
                         timeout=30_000)


def _accessible_names(pg, count: int) -> list[str]:
    """Chromium's accessible name of each element marked data-kbd (DevTools protocol)."""
    cdp = pg.context.new_cdp_session(pg)
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    names = []
    for i in range(count):
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f'[data-kbd="{i}"]'})
        ax = cdp.send("Accessibility.getPartialAXTree",
                      {"nodeId": node["nodeId"], "fetchRelatives": False})["nodes"][0]
        names.append(str(ax.get("name", {}).get("value", "")).strip())
    cdp.detach()
    return names


def test_tab_reaches_every_control_with_visible_focus_and_a_name(page):
    page.goto(page.base + "/")
    settle(page)
    _wait_for_controls(page)
    candidates = page.evaluate(CANDIDATES_JS)
    missing = [i for i in CONTROL_IDS if not page.evaluate(CONTAINS_JS, i)]
    assert missing == [], f"controls without a keyboard stop: {missing}"
    assert len(candidates) >= len(CONTROL_IDS)
    page.evaluate(SHADOWS_JS)
    reached: dict[str, bool] = {}
    order = []
    for _ in range(len(candidates) + 20):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None or (order and focus["kbd"] == order[0]):
            break  # back at the top of the page
        assert focus["kbd"] is not None, f"focus on an element not in the list: {focus}"
        assert focus["visible"], f"focus not visible on {focus['what']}"
        order.append(focus["kbd"])
        reached[candidates[int(focus["kbd"])]["group"]] = True
    unreached = [c["what"] for c in candidates if c["group"] not in reached]
    assert unreached == [], f"Tab never reaches: {unreached}"
    nameless = [c["what"] for c, name in
                zip(candidates, _accessible_names(page, len(candidates)), strict=True)
                if not name]
    assert nameless == [], f"controls without an accessible name: {nameless}"
    assert page.errors == []


def _tab_to(pg, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        pg.keyboard.press("Tab")
        if pg.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_slider_dropdown_and_explanation_work_from_the_keyboard(page):
    page.goto(page.base + "/")
    old = settle(page)
    _wait_for_controls(page)
    _tab_to(page, "#ctl-sigma_w [role=slider]")
    page.keyboard.press("ArrowRight")  # one step: 1.2 -> 1.21
    key = settle(page, old)
    state = url_state.decode(key)[0]
    assert state.sigma_w == 1.21 and thumb_value(page, "sigma_w") == 1.21
    ref = theory.point(state.params("vanilla"))
    assert meta(page, "phase-graph")["points"][0]["xi"] == pytest.approx(ref.xi_jac, rel=1e-12)
    assert f"{ref.xi_jac:.5g}" in page.inner_text("#readout")
    # a preset, chosen with Enter and the arrows (Tab wraps round to the top)
    _tab_to(page, f"#{ids.PRESET}")
    page.keyboard.press("Enter")
    page.wait_for_selector("[role=option]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    # which option the keys landed on is the dropdown's business (reading the focused
    # option before Enter raced with its rendering once, in a clean CI run); the test
    # asks that a preset was applied from the keyboard, fully: caption and controls
    page.wait_for_function("() => document.getElementById('preset-caption').innerText"
                           ".trim().length > 0")
    caption = page.inner_text("#preset-caption")
    # the caption reads "<label>: <caption> Source: <source>." (state.apply_preset)
    chosen = [pr for pr in presets.PRESETS.values() if caption.startswith(pr.label + ":")]
    assert len(chosen) == 1 and caption.endswith(f"Source: {chosen[0].source}."), caption
    new_key = settle(page, key)
    shown = url_state.decode(new_key)[0]
    values = presets.resolve(chosen[0].name, T=shown.T, sigma_v=shown.sigma_v, R=shown.R,
                             sigma_b=shown.sigma_b)[0]
    for name, value in values.items():
        if isinstance(value, float) and name in specs.SLIDERS:  # sliders round to their step
            half_step = specs.SLIDERS[name].step / 2 + 1e-9
            assert getattr(shown, name) == pytest.approx(value, abs=half_step), (name, value)
    # an explanation: Enter opens it beside the plots, Escape closes it and
    # gives the focus back to its summary
    _tab_to(page, "#explain-phase summary")
    page.keyboard.press("Enter")
    page.wait_for_selector("#explain-phase .explain-card", state="visible")
    page.keyboard.press("Escape")
    page.wait_for_selector("#explain-phase .explain-card", state="hidden")
    assert page.evaluate("() => document.activeElement === "
                         "document.querySelector('#explain-phase summary')")
    assert page.errors == []
