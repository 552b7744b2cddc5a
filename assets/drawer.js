/* The side bar as a drawer (components/layout.py, assets/style.css).
 *
 * On narrow screens (phones, tablets: max-width 900px) and in presentation
 * mode (class "present" on <html>) the side bar of controls leaves the page
 * flow: <html> gets the class "drawer-mode" and the side bar slides in over the
 * page when the top bar's "Controls" button is pressed (class "drawer-open").
 * The drawer's x button, a click on the shade beside it and Escape close it
 * and give the focus back to the "Controls" button. The graphs keep their size
 * (the drawer is fixed-positioned over them).
 *
 * The height of the top bar is written to the CSS variable --topbar-h (the
 * drawer and the explanation cards start below it; on a phone the top bar can
 * wrap onto a second line).
 *
 * window.rnnDrawer(open) opens (true), closes (false) or toggles the drawer.
 */
(function () {
  "use strict";
  var root = document.documentElement;
  var NARROW = window.matchMedia("(max-width: 900px)");
  var SIDEBAR = "sidebar";
  var BUTTON = "controls-button";

  function byId(id) { return document.getElementById(id); }

  function isOpen() { return root.classList.contains("drawer-open"); }

  function syncMode() {
    var drawer = NARROW.matches || root.classList.contains("present");
    if (root.classList.contains("drawer-mode") !== drawer) {
      root.classList.toggle("drawer-mode", drawer);
    }
    if (!drawer && isOpen()) { setOpen(false); }
    syncButton();
  }

  function syncButton() {
    var button = byId(BUTTON);
    var value = isOpen() ? "true" : "false";
    if (button && button.getAttribute("aria-expanded") !== value) {
      button.setAttribute("aria-expanded", value);
    }
  }

  function setOpen(open) {
    var want = open === undefined ? !isOpen() : Boolean(open);
    if (want && !root.classList.contains("drawer-mode")) { want = false; }
    if (want === isOpen()) { return; }
    var sidebar = byId(SIDEBAR);
    var focusInside = sidebar && sidebar.contains(document.activeElement);
    root.classList.toggle("drawer-open", want);
    syncButton();
    if (want) {
      var close = byId("drawer-close");
      if (close) { close.focus({preventScroll: true}); }
    } else if (focusInside && byId(BUTTON)) {
      byId(BUTTON).focus({preventScroll: true});
    }
  }
  window.rnnDrawer = setOpen;

  /* A menu open inside the drawer (a dropdown's list) takes Escape first: Dash's
   * dropdown closes its list in the capture phase and marks the event handled. */
  function menuOpen(event) {
    return event.defaultPrevented ||
      document.querySelector("#" + SIDEBAR + " [role=listbox]") !== null;
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) { return; }
    if (target.closest("#" + BUTTON)) { setOpen(); }
    else if (target.closest("#drawer-close") || target.closest("#drawer-backdrop")) {
      setOpen(false);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen() && !menuOpen(event)) { setOpen(false); }
  });

  function topbarHeight() {
    var bar = document.querySelector(".topbar");
    if (!bar) { return; }
    var h = Math.round(bar.getBoundingClientRect().height) + "px";
    if (root.style.getPropertyValue("--topbar-h") !== h) {
      root.style.setProperty("--topbar-h", h);
    }
  }

  NARROW.addEventListener("change", syncMode);
  // presentation mode switches the drawer on and off (class "present" on <html>)
  new MutationObserver(syncMode).observe(root, {attributes: true, attributeFilter: ["class"]});
  var sized = typeof ResizeObserver === "function" ? new ResizeObserver(topbarHeight) : null;
  // Dash renders the top bar after this script runs: wait for it, once
  var waiting = new MutationObserver(function () {
    var bar = document.querySelector(".topbar");
    if (!bar) { return; }
    waiting.disconnect();
    if (sized) { sized.observe(bar); }
    topbarHeight();
    syncButton();
  });
  waiting.observe(document, {childList: true, subtree: true});
  syncMode();
})();
