/* Presentation mode from URL flags (see components/url_state.py FLAG_KEYS):
 *   present=1     larger fonts and lines, higher contrast (class "present" on <html>;
 *                 the figures' own layout is restyled by assets/figure_style.js)
 *   theme=dark    dark page and figures (class "theme-dark"; figure_style.js too)
 *   hide=a,b,...  hide the explanations, side-bar sections, panels or controls named
 * Applied once at load (a shared link is opened fresh); assets/app.js keeps the
 * flags in the address bar when controls change.
 */
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var root = document.documentElement;
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
})();
