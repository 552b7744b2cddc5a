/* Accessible names for controls whose visible label is not tied to them.
 * - Dash 4 slider: the thumb (role=slider) and its number box get the text of
 *   their row's data-label (components/controls.py::labelled_slider).
 * - Rows made by controls.field_row (a <label class="ctl-label"> beside the
 *   control, without "for"): number boxes are labelled by it, dropdown buttons
 *   by it followed by their value, radio groups become role=radiogroup named by it.
 * Runs on every DOM change because Dash renders (and re-renders) the controls
 * after this script loads. tests/test_keyboard.py checks the names Chromium
 * computes.
 */
(function () {
  "use strict";
  var count = 0;

  function set(el, name, value) {
    if (el.getAttribute(name) !== value) { el.setAttribute(name, value); }
  }

  function labelSliders() {
    document.querySelectorAll(".ctl-row[data-label]").forEach(function (row) {
      var text = row.getAttribute("data-label");
      var thumb = row.querySelector("[role=slider]");
      var box = row.querySelector("input[type=number]");
      if (thumb) { set(thumb, "aria-label", text); }
      if (box) { set(box, "aria-label", text + " (exact value)"); }
    });
  }

  function labelFields() {
    document.querySelectorAll(".ctl-row > label.ctl-label").forEach(function (label) {
      var row = label.parentElement;
      if (!label.id) { label.id = (row.id || "ctl-row-" + (count += 1)) + "-label"; }
      row.querySelectorAll("input[type=number]:not([aria-label])").forEach(function (box) {
        set(box, "aria-labelledby", label.id);
      });
      row.querySelectorAll("button.dash-dropdown").forEach(function (button) {
        var own = (button.getAttribute("aria-labelledby") || "").split(" ").filter(
          function (id) { return id && id !== label.id; });
        set(button, "aria-labelledby", [label.id].concat(own).join(" "));
      });
      row.querySelectorAll(".radio-col, .radio-row").forEach(function (group) {
        set(group, "role", "radiogroup");
        set(group, "aria-labelledby", label.id);
      });
    });
  }

  function label() {
    labelSliders();
    labelFields();
  }

  var pending = false;
  var observer = new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; label(); });
  });
  function start() {
    observer.observe(document.body, {childList: true, subtree: true});
    label();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
