/* Accessible names for the Dash 4 slider parts.
 * The slider thumb (role=slider) and its built-in number box have no label of
 * their own; give both the text of their row's data-label (set by
 * components/controls.py::labelled_slider). Runs on every DOM change because
 * Dash renders (and re-renders) the controls after this script loads.
 */
(function () {
  "use strict";
  function label() {
    var rows = document.querySelectorAll(".ctl-row[data-label]");
    rows.forEach(function (row) {
      var text = row.getAttribute("data-label");
      var thumb = row.querySelector("[role=slider]");
      var box = row.querySelector("input[type=number]");
      if (thumb && thumb.getAttribute("aria-label") !== text) {
        thumb.setAttribute("aria-label", text);
      }
      if (box && box.getAttribute("aria-label") !== text + " (exact value)") {
        box.setAttribute("aria-label", text + " (exact value)");
      }
    });
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
