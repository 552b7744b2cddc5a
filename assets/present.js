/* Presentation mode: the "Present" button, its shortcut and the URL flags
 * (see components/url_state.py FLAG_KEYS).
 *
 *   present=1     a large phase diagram, projector-sized text, thick lines
 *                 (class "present" on <html>; the side bar becomes a drawer,
 *                 assets/drawer.js; the figures' own layout is restyled by
 *                 assets/figure_style.js, which watches the class)
 *   theme=dark    dark page and figures (class "theme-dark"; figure_style.js too)
 *   hide=a,b,...  hide the explanations, side-bar sections, panels or controls named
 *
 * The flags are applied once at load (a shared link is opened fresh). The
 * header's "Present" button, the key P and (in presentation mode) Escape toggle
 * the class "present" and write present=1 into the address bar, or take it out,
 * with history.replaceState (the other query keys are kept as they are); the
 * button's aria-pressed follows. The keys do nothing while the focus is in a
 * text or number box, on a slider thumb or in a dropdown, and Escape leaves an
 * open explanation, drawer or menu first. assets/app.js keeps the flags in the
 * address bar when controls change.
 *
 * window.rnnPresent(on) switches presentation mode on (true), off (false) or
 * over (no argument).
 */
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var root = document.documentElement;
  var BUTTON = "present-button";
  if (params.get("present") === "1") { root.classList.add("present"); }
  if (params.get("theme") === "dark") { root.classList.add("theme-dark"); }
  var special = {explanations: ".panel-explain", presets: "#sec-presets", export: "#sec-export",
                 phase: ".p-phase", spectrum: ".p-spectrum", readout: ".p-readout",
                 memory: ".p-memory"};
  var rules = [];
  (params.get("hide") || "").split(",").forEach(function (name) {
    if (!/^[A-Za-z_]+$/.test(name)) { return; }
    rules.push((special[name] || "#wrap-" + name) + " { display: none !important; }");
    root.classList.add("hide-" + name);  // lets style.css re-flow the panel grid
  });
  if (rules.length) {
    var style = document.createElement("style");
    style.id = "rnn-hide";
    style.textContent = rules.join("\n");
    document.head.appendChild(style);
    root.classList.add("has-hidden");
  }

  function isOn() { return root.classList.contains("present"); }

  /* The address bar with present=1 at the end (on) or without any present key. */
  function writeFlag(on) {
    var pairs = window.location.search.replace(/^\?/, "").split("&").filter(function (pair) {
      return pair && decodeURIComponent(pair.split("=")[0]) !== "present";
    });
    if (on) { pairs.push("present=1"); }
    var search = pairs.length ? "?" + pairs.join("&") : "";
    if (search !== window.location.search) {
      window.history.replaceState(window.history.state, "",
                                  window.location.pathname + search + window.location.hash);
    }
  }

  function syncButton() {
    var button = document.getElementById(BUTTON);
    var value = isOn() ? "true" : "false";
    if (button && button.getAttribute("aria-pressed") !== value) {
      button.setAttribute("aria-pressed", value);
    }
  }

  function setPresent(on) {
    var want = on === undefined ? !isOn() : Boolean(on);
    if (want !== isOn()) { root.classList.toggle("present", want); }
    writeFlag(want);
    syncButton();
  }
  window.rnnPresent = setPresent;

  /* Keys typed into a box, moving a slider or choosing in a dropdown are theirs. */
  function busyTarget(el) {
    if (!el || el.nodeType !== 1 || el === document.body) { return false; }
    if (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) { return true; }
    return el.closest("[role=slider], [role=listbox], [role=option], [role=combobox], " +
                      ".dash-dropdown, .dash-dropdown-content") !== null;
  }

  /* Escape first closes what is open over the page (assets/explain.js, drawer.js). */
  function somethingOpen() {
    return root.classList.contains("drawer-open") ||
      document.querySelector("details.panel-explain[open], [role=listbox]") !== null;
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#" + BUTTON)) { setPresent(); }
  });

  // capture phase: runs before explain.js and drawer.js close what Escape closes
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat ||
        busyTarget(event.target)) { return; }
    if (event.key === "p" || event.key === "P") {
      event.preventDefault();
      setPresent();
    } else if (event.key === "Escape" && isOn() && !somethingOpen()) {
      setPresent(false);
    }
  }, true);

  // Dash renders the button after this script runs: give it the page's state, once
  var waiting = new MutationObserver(function () {
    if (!document.getElementById(BUTTON)) { return; }
    waiting.disconnect();
    syncButton();
  });
  waiting.observe(document, {childList: true, subtree: true});
})();
