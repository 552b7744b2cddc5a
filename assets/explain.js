/* Explanation drawer (components/explain.py, assets/style.css).
 * An opened panel explanation shows as a card over the side bar, so the plots
 * keep their size. One is open at a time (opening another closes the first);
 * the card's x button or Escape closes it and gives the focus back to its
 * summary.
 */
(function () {
  "use strict";
  var SELECTOR = "details.panel-explain";

  function close(details) {
    details.open = false;
    var summary = details.querySelector("summary");
    if (summary) { summary.focus(); }
  }

  // "toggle" does not bubble: listen in the capture phase
  document.addEventListener("toggle", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches(SELECTOR) || !target.open) { return; }
    document.querySelectorAll(SELECTOR + "[open]").forEach(function (other) {
      if (other !== target) { other.open = false; }
    });
  }, true);

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".explain-close");
    if (button) { close(button.closest(SELECTOR)); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = document.querySelector(SELECTOR + "[open]");
    if (open) { close(open); }
  });
})();
