/* File names of the figures' "download plot" modebar button (SVG, see
 * components/layout.py GRAPH_CONFIG): rnn_<arch>_<phi>_<weights>_sw.._sb.._mb.._sv.._R.._S.._T.._<panel>,
 * the same stem as components/export.py::file_stem, read from the permalink.
 * Set after every redraw (plotly_afterplot), because a redraw rebuilds the
 * graph's config from the server's.
 */
(function () {
  "use strict";
  var GRAPHS = ["phase-graph", "memory-graph", "spectrum-graph"];
  var SHORT = [["sigma_w", "sw"], ["sigma_b", "sb"], ["mu_b", "mb"], ["sigma_v", "sv"],
               ["R", "R"], ["Sigma", "S"]];

  function stem() {
    var q = new URLSearchParams(window.location.search);
    var parts = ["rnn", q.get("arch"), q.get("phi"), q.get("weights")];
    SHORT.forEach(function (p) { parts.push(p[1] + q.get(p[0])); });
    parts.push("T" + q.get("T"));
    return parts.join("_");
  }

  function name(gd, id) {
    if (!gd._context || !new URLSearchParams(window.location.search).get("arch")) { return; }
    gd._context.toImageButtonOptions = Object.assign({}, gd._context.toImageButtonOptions,
      {filename: stem() + "_" + id.replace("-graph", "")});
  }

  function hook() {
    GRAPHS.forEach(function (id) {
      var gd = document.querySelector("#" + id + " .js-plotly-plot");
      if (!gd || gd.rnnFileHook || !gd.on) { return; }
      gd.rnnFileHook = true;
      gd.on("plotly_afterplot", function () { name(gd, id); });
      name(gd, id);
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; hook(); });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
