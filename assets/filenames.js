/* Figure downloads whose file name carries the parameters:
 *   rnn_<arch>_<phi>_<weights>_sw.._sb.._mb.._sv.._R.._S.._T.._<panel>.<svg|png>
 * the same stem as components/export.py::file_stem, read from the state the
 * graph draws (its permalink query, see rnnPanelState in assets/app.js), or
 * from the address bar before the first draw.
 *
 * Two routes, one name:
 * - the modebar's "download plot" button (SVG, components/layout.py
 *   GRAPH_CONFIG): its file name is set after every redraw
 *   (plotly_afterplot), because a redraw rebuilds the graph's config;
 * - the panels' SVG / PNG buttons (data-graph, data-format; layout._downloads):
 *   Plotly.downloadImage at the graph's on-screen size, PNG at PNG_SCALE times
 *   the pixels (sharp on slides and in print).
 * window.rnnImageName(graphId) and window.rnnImageSize(graphId, format) give
 * the name and pixel size (tests).
 */
(function () {
  "use strict";
  var GRAPHS = ["phase-graph", "memory-graph", "spectrum-graph"];
  var SHORT = [["sigma_w", "sw"], ["sigma_b", "sb"], ["mu_b", "mb"], ["sigma_v", "sv"],
               ["R", "R"], ["Sigma", "S"]];
  var PNG_SCALE = 2;

  function query(id) {
    var state = window.rnnPanelState && window.rnnPanelState(id);
    var search = state && state.key ? state.key : window.location.search;
    return new URLSearchParams(search);
  }

  function stem(q) {
    var parts = ["rnn", q.get("arch"), q.get("phi"), q.get("weights")];
    SHORT.forEach(function (p) { parts.push(p[1] + q.get(p[0])); });
    parts.push("T" + q.get("T"));
    return parts.join("_");
  }

  function imageName(id) {
    var q = query(id);
    if (!q.get("arch")) { return null; }
    return stem(q) + "_" + id.replace("-graph", "");
  }

  function graphDiv(id) {
    return document.querySelector("#" + id + " .js-plotly-plot");
  }

  function imageSize(id, format) {
    var full = graphDiv(id) && graphDiv(id)._fullLayout;
    if (!full) { return null; }
    var scale = format === "png" ? PNG_SCALE : 1;
    return {width: Math.round(full.width), height: Math.round(full.height), scale: scale};
  }

  window.rnnImageName = imageName;
  window.rnnImageSize = imageSize;

  function name(gd, id) {
    var fn = imageName(id);
    if (!gd._context || !fn) { return; }
    gd._context.toImageButtonOptions = Object.assign({}, gd._context.toImageButtonOptions,
      {filename: fn});
  }

  function hook() {
    GRAPHS.forEach(function (id) {
      var gd = graphDiv(id);
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

  function download(button) {
    var id = button.getAttribute("data-graph");
    var format = button.getAttribute("data-format");
    var gd = graphDiv(id);
    var size = imageSize(id, format);
    var fn = imageName(id);
    if (!gd || !size || !fn || !window.Plotly || button.getAttribute("aria-busy")) { return; }
    button.setAttribute("aria-busy", "true");  // not disabled: that would drop the focus
    window.Plotly.downloadImage(gd, {format: format, filename: fn, width: size.width,
                                     height: size.height, scale: size.scale})
      .catch(function (err) { console.warn("download failed: " + err); })
      .then(function () { button.removeAttribute("aria-busy"); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-format]");
    if (button) { download(button); }
  });
})();
