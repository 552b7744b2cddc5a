/* Clientside callbacks of the RNN Phase Explorer (registered in
 * components/callbacks/clientside.py). Namespace: window.dash_clientside.rnn.
 *
 * writeUrl(ready, ...controls, config): permalink via history.replaceState.
 *   Control values arrive in the order of components.callbacks.parse.CONTROLS;
 *   config (a dcc.Store written by the layout) holds the URL keys, the schema
 *   version, the control names and each slider's decimals.
 * moveMarker(...dragValues, plane): move the star of the phase diagram while a
 *   plane slider is dragged (only the coordinate of the slider that fired; the
 *   server redraws on release).
 * copyLink(n): copy location.href to the clipboard.
 * window.rnnPanelState(graphId): the state a graph shows (tests, benchmark).
 */
(function () {
  "use strict";
  var noUpdate = function () { return window.dash_clientside.no_update; };

  function fmt(value, decimals) {
    if (typeof value !== "number") { return String(value); }
    var d = decimals === undefined ? 10 : decimals;
    return String(Number(value.toFixed(d)));
  }

  function query(config, values) {
    var v = {};
    config.names.forEach(function (name, i) { v[name] = values[i]; });
    var plane = String(v.plane || "").split(",");
    // URL key -> control name where they differ (vs -> compare, gv -> gru_variant ...)
    var fieldOf = function (key) { return (config.fields || {})[key] || key; };
    var parts = [];
    config.keys.forEach(function (key) {
      var out;
      if (key === "v") { out = config.version; }
      else if (key === "arch") { out = v.mode; }
      else if (key === "x") { out = plane[0]; }
      else if (key === "y") { out = plane[1]; }
      else if (key === "xi") { out = String(v.field).replace(/^xi_/, ""); }
      else if (key === "sample" || key === "sim") { out = v[fieldOf(key)] ? 1 : 0; }
      else { out = fmt(v[fieldOf(key)], config.decimals[key]); }
      if (out === undefined || out === null || out === "null") { return; }
      parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(out));
    });
    // presentation flags (present, theme, hide) are not controls: keep them
    var current = new URLSearchParams(window.location.search);
    (config.flags || []).forEach(function (key) {
      if (current.has(key)) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(current.get(key)));
      }
    });
    return "?" + parts.join("&");
  }

  /* State drawn by a graph: its layout.meta, or (phase diagram) the JSON of
   * its hidden annotation named "state". The phase diagram has no layout.meta:
   * Dash's Patch hands Plotly a copy of it, and a new meta redraws every trace.
   * Used by moveMarker, the browser tests and the benchmark. */
  function panelState(gd) {
    var layout = gd && gd.layout;
    if (!layout) { return null; }
    if (layout.meta) { return layout.meta; }
    var anns = layout.annotations || [];
    for (var i = 0; i < anns.length; i++) {
      if (anns[i].name === "state") { return JSON.parse(anns[i].text); }
    }
    return null;
  }

  window.rnnPanelState = function (graphId) {
    var host = document.getElementById(graphId);
    return panelState(host && host.querySelector(".js-plotly-plot"));
  };

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    rnn: {
      writeUrl: function () {
        var args = Array.prototype.slice.call(arguments);
        var ready = args[0];
        var config = args[args.length - 1];
        if (!ready || !config) { return noUpdate(); }
        var search = query(config, args.slice(1, args.length - 1));
        if (search !== window.location.search) {
          window.history.replaceState(window.history.state, "", search);
        }
        return search;
      },

      moveMarker: function () {
        // arguments: 4 drag_values, 4 values (sigma_w, sigma_b, mu_b, sigma_v), plane
        var args = Array.prototype.slice.call(arguments);
        var names = ["sigma_w", "sigma_b", "mu_b", "sigma_v"];
        var plane = String(args[8] || "").split(",");
        var ctx = window.dash_clientside.callback_context;
        var trig = ctx && ctx.triggered && ctx.triggered[0];
        if (!trig || !trig.prop_id) { return noUpdate(); }
        var name = trig.prop_id.split(".")[0].replace(/^ctl-/, "");
        var axis = plane.indexOf(name);
        var k = names.indexOf(name);
        if (k >= 0 && args[4 + k] === trig.value) { return noUpdate(); }  // key press
        var gd = document.querySelector("#phase-graph .js-plotly-plot");
        var meta = panelState(gd);
        if (axis < 0 || trig.value === null || trig.value === undefined ||
            !meta || !meta.marker_ann || !window.Plotly) { return noUpdate(); }
        var v = meta.log && meta.log[axis] ? Math.log10(trig.value) : trig.value;
        var update = {};
        meta.marker_ann.forEach(function (pair) {
          pair.forEach(function (i) { update["annotations[" + i + "]." + (axis === 0 ? "x" : "y")] = v; });
        });
        window.Plotly.relayout(gd, update);
        return noUpdate();
      },

      copyLink: function () {
        var href = window.location.href;
        if (navigator.clipboard && window.isSecureContext) {
          return navigator.clipboard.writeText(href).then(
            function () { return "Link copied"; },
            function () { return "Copy this link: " + href; });
        }
        return "Copy this link: " + href;
      }
    }
  });
})();
