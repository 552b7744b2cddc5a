/* Presentation and dark styles of the figures, applied to the figure itself
 * (its layout and traces), not by CSS: fonts, line widths and colours are then
 * what Plotly measures (legends, margins and colour bars make room for the
 * larger text) and what "download" writes.
 *
 * The classes "present" and "theme-dark" on <html> (set by assets/present.js
 * from the URL flags present=1 and theme=dark, and by the "Present" button)
 * select the style; when they change, every graph is drawn again from its last
 * figure in the new style (restyleAll). Every figure
 * the server sends is styled on its way into Plotly: Plotly.react and
 * Plotly.newPlot are wrapped when plotly.js registers window.Plotly (Dash loads
 * it after the assets). The wrapper copies what it changes (layout, and each
 * trace it restyles shallowly, keeping the data arrays), so Dash's stored
 * figure, which a later Patch is applied to, stays the server's.
 *
 * In every mode, a legend below the plot is kept clear of the x-axis labels
 * (fitLegend below). On touch screens the graphs take no drag (a finger
 * scrolls the page), and in narrow graphs side-by-side subplots are stacked
 * (assets/figure_narrow.js; redrawn when a resize crosses its width).
 *
 * window.rnnFigureStyle(figure) returns the styled copy (tests, debugging).
 */
(function () {
  "use strict";
  var root = document.documentElement;
  var FONT_SCALE = 17 / 13;  // the figures' 13 px base font -> 17 px
  var LINE_SCALE = 1.6;
  var MARKER_SCALE = 1.25;
  var TICK_SIZE = 15;  // tick labels a little smaller than titles: more fit on an axis
  var LINE_PX = 22;  // one line of 17 px text
  var MARK = "_rnnPresent";
  var AXIS = /^[xy]axis\d*$/;
  // light presentation: neutrals darker, grid visible on a projector
  var PRESENT_COLOURS = {"#444": "#222222", "#555": "#222222", "#1a1a1a": "#000000"};
  // dark theme: what sits on the white paper (not on the heatmap) becomes light,
  // and the Okabe-Ito blue/green become their lighter partners
  var DARK_COLOURS = {
    "black": "#f2f4f8", "#000": "#f2f4f8", "#000000": "#f2f4f8", "#1a1a1a": "#f2f4f8",
    "#444": "#c8ccd4", "#555": "#b4bac4", "#0072b2": "#56B4E9", "#007a58": "#3fcf9f",
    "rgba(0,114,178,0.22)": "rgba(86,180,233,0.30)"};
  var DARK = {paper: "#191d24", ink: "#e8ebf0", line: "#c3c9d4", grid: "#363c48"};

  var COARSE = window.matchMedia("(pointer: coarse)");

  function mode() {
    return {present: root.classList.contains("present"),
            dark: root.classList.contains("theme-dark"), touch: COARSE.matches};
  }

  function recolour(colour, table) {
    if (typeof colour !== "string") { return colour; }
    var key = colour.toLowerCase().replace(/\s+/g, "");
    return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : colour;
  }

  /* True the first time ``obj`` is seen: Dash copies a relayout's changed layout
   * keys from the graph back into its figure (so styled parts come back on the next
   * draw); the mark (Plotly ignores "_" keys) keeps the scaling from repeating. */
  function once(obj) {
    if (obj[MARK]) { return false; }
    obj[MARK] = 1;
    return true;
  }

  function scaleFonts(obj) {  // every font.size in a (small) layout object
    if (!obj || typeof obj !== "object") { return; }
    if (Array.isArray(obj)) { obj.forEach(scaleFonts); return; }
    Object.keys(obj).forEach(function (key) {
      var v = obj[key];
      if (key === "font" && v && typeof v.size === "number" && once(v)) {
        v.size = Math.round(v.size * FONT_SCALE);
      }
      if (v && typeof v === "object") { scaleFonts(v); }
    });
  }

  function styleAxis(ax, m) {
    if (m.present) {
      Object.assign(ax, {linewidth: 2, tickwidth: 2, ticklen: 6, automargin: true,
                         linecolor: "#000000", tickcolor: "#000000", gridcolor: "#bcbcbc",
                         tickfont: Object.assign({size: TICK_SIZE}, ax.tickfont)});
      // labels like 10^-17 are wide at this size: every other decade (spectrum)
      if (ax.exponentformat === "power" && typeof ax.dtick === "number" && once(ax)) {
        ax.dtick *= 2;
      }
    }
    if (m.dark) {
      Object.assign(ax, {linecolor: DARK.line, tickcolor: DARK.line, gridcolor: DARK.grid});
    }
  }

  function styleLayout(layout, m, onHeatmap) {
    var table = m.dark ? DARK_COLOURS : PRESENT_COLOURS;
    layout.font = Object.assign({size: 13}, layout.font);
    if (m.present) {
      scaleFonts(layout);
      layout.font.color = "#000000";
      legendBeside(layout);
      var wrapped = breakTitleKeys(layout.annotations || []);
      var mg = layout.margin = layout.margin || {};
      if (once(mg)) { mg.t = Math.round((mg.t || 30) * FONT_SCALE) + (wrapped ? LINE_PX : 0); }
    }
    Object.keys(layout).forEach(function (key) {
      if (AXIS.test(key)) { styleAxis(layout[key], m); }
    });
    (layout.shapes || []).forEach(function (s) {
      if (!s.line) { return; }
      if (m.present && typeof s.line.width === "number" && once(s)) {
        s.line.width *= LINE_SCALE;
      }
      if (!onHeatmap) { s.line.color = recolour(s.line.color, table); }
    });
    (layout.annotations || []).forEach(function (a) { styleAnnotation(a, m, onHeatmap, table); });
    if (m.dark) { darkLayout(layout, onHeatmap); }
  }

  /* Subplot titles with a line-style key (name "title-key", components/figures/
   * memory.py KEY_SEP) get the key on a second line: at projector size the two
   * do not fit beside each other. Returns whether any title was broken. */
  function breakTitleKeys(annotations) {
    var any = false;
    annotations.forEach(function (a) {
      var cut = a.name === "title-key" && typeof a.text === "string" ? a.text.indexOf("</b>") : -1;
      if (cut < 0) { return; }
      any = true;
      if (!once(a)) { return; }
      a.text = a.text.slice(0, cut + 4) + "<br>" + a.text.slice(cut + 4).replace(/^\s+/, "");
    });
    return any;
  }

  function styleAnnotation(a, m, onHeatmap, table) {
    var onPaper = a.xref === "paper" && a.yref === "paper" && a.y >= 1;  // titles
    if (onHeatmap && !onPaper) { return; }  // stars and notes drawn on the colour map
    if (a.font && a.font.color) { a.font.color = recolour(a.font.color, table); }
    if (m.dark && typeof a.bgcolor === "string") {
      a.bgcolor = a.bgcolor.replace(/rgba\(\s*255\s*,\s*255\s*,\s*255\s*,/, "rgba(25,29,36,");
    }
  }

  function darkLayout(layout, onHeatmap) {
    layout.paper_bgcolor = DARK.paper;
    layout.plot_bgcolor = DARK.paper;
    layout.font.color = DARK.ink;
    layout.modebar = {bgcolor: "rgba(0,0,0,0)", color: DARK.line, activecolor: "#ffffff"};
    if (onHeatmap && layout.legend) {
      // the legend keys the black and white lines drawn on the map: keep it light
      layout.legend.font = Object.assign({}, layout.legend.font, {color: "#1a1a1a"});
    } else if (layout.legend) {
      layout.legend.bgcolor = "rgba(0,0,0,0)";
    }
  }

  function copyWith(obj, changes) {
    return Object.assign({}, obj, changes);
  }

  function styleTrace(t, m, onHeatmap) {
    var table = m.dark ? DARK_COLOURS : PRESENT_COLOURS;
    var out = copyWith(t, {});
    if (t.line) {
      out.line = copyWith(t.line, {});
      if (m.present && typeof t.line.width === "number") {
        out.line.width = t.line.width * LINE_SCALE;
      }
      if (!onHeatmap) { out.line.color = recolour(t.line.color, table); }
    }
    if (t.marker) {
      out.marker = copyWith(t.marker, {});
      if (m.present && typeof t.marker.size === "number") {
        out.marker.size = t.marker.size * MARKER_SCALE;
      }
      if (t.marker.line && !onHeatmap) {
        out.marker.line = copyWith(t.marker.line, {color: recolour(t.marker.line.color, table)});
      }
    }
    if (!onHeatmap && t.fillcolor) { out.fillcolor = recolour(t.fillcolor, table); }
    if (m.present && t.colorbar) {  // six labels on a short bar: a little smaller text
      out.colorbar = copyWith(t.colorbar, {thickness: Math.round((t.colorbar.thickness || 30) * 1.4),
                                           tickfont: {size: TICK_SIZE - 1}});
    }
    return out;
  }

  /* The figure as drawn: presentation and dark styles, stacked subplots in a
   * narrow graph, and on touch screens no drag (dragmode false: a finger on a
   * graph scrolls the page, a tap still clicks). */
  function styleFigure(fig, narrow) {
    var m = mode();
    if (!fig || !(m.present || m.dark || m.touch || narrow)) { return fig; }
    var data = fig.data || [];
    var onHeatmap = data.some(function (t) { return t.type === "heatmap"; });
    var layout = JSON.parse(JSON.stringify(fig.layout || {}));
    if (m.present || m.dark) {
      styleLayout(layout, m, onHeatmap);
      data = data.map(function (t) { return styleTrace(t, m, onHeatmap); });
    }
    if (narrow) { stackSubplots(layout, m); }
    if (m.touch) { layout.dragmode = false; }
    return copyWith(fig, {data: data, layout: layout});
  }
  window.rnnFigureStyle = function (fig) { return styleFigure(fig, false); };

  /* Narrow graphs (assets/figure_narrow.js stacks side-by-side subplots); the
   * subplot titles then go onto two lines, as in presentation mode. */
  function isNarrow(gd, layout) {
    return Boolean(window.rnnNarrow) &&
      window.rnnNarrow.applies(gd.getBoundingClientRect().width, layout);
  }

  function stackSubplots(layout, m) {
    window.rnnNarrow.stack(layout);
    if (!m.present && breakTitleKeys(layout.annotations || [])) {
      var mg = layout.margin = layout.margin || {};
      mg.t = (mg.t || 30) + LINE_PX - 6;  // one more line of 13 px text
    }
  }

  /* A legend below the plot (the phase diagram's) sits at a fraction of the plot
   * height under it, which is too little when the axis labels are large
   * (presentation mode) or the plot short (both architectures). After a draw it
   * is moved to GAP_PX under the lowest x-axis label (measured) and that place is
   * given to the graph's next figures (styleFor).
   *
   * The move redraws the graph from its last figure (redraw), not with
   * Plotly.relayout: Dash copies a relayout back into its figure and draws that
   * copy again, and a copy that arrived after the next move used to restart the
   * count of moves; with a fit that did not settle (the legend pushes the bottom
   * margin, which moves the labels) the renderer then looped at 100 % CPU. Now
   * at most MAX_FITS moves follow one figure from Dash at one graph size
   * (fitKey), and each runs in its own animation frame, never inside the
   * plotly_afterplot event that reported the draw. */
  var GAP_PX = 8;
  var MAX_FITS = 3;

  function lowestXLabel(gd) {
    var bottom = -Infinity;
    gd.querySelectorAll(".xtick text, text.xtitle, text.x2title, text.x3title").forEach(
      function (el) { bottom = Math.max(bottom, el.getBoundingClientRect().bottom); });
    return bottom;
  }

  function fitKey(gd, full) {
    return gd.rnnDraws + ":" + Math.round(full.width) + "x" + Math.round(full.height);
  }

  function fitLegend(gd) {
    var leg = gd.layout && gd.layout.legend;
    var box = gd.querySelector(".legend");
    var full = gd._fullLayout;
    if (!leg || !(leg.y < 0) || leg.yref === "container" || !box || !gd.offsetParent ||
        !full || !full._size || !gd.rnnSource) { return; }
    var key = fitKey(gd, full);
    if (gd.rnnFitKey !== key) { gd.rnnFitKey = key; gd.rnnLegendFits = 0; }
    if (gd.rnnLegendFits >= MAX_FITS) { return; }
    var shift = lowestXLabel(gd) + GAP_PX - box.getBoundingClientRect().top;
    if (!isFinite(shift) || Math.abs(shift) < 2) { return; }
    gd.rnnLegendFits += 1;
    gd.rnnLegendY = leg.y - shift / full._size.h;
    redraw(gd);
  }

  function scheduleFit(gd) {
    if (gd.rnnFitPending) { return; }
    gd.rnnFitPending = true;
    window.requestAnimationFrame(function () {
      gd.rnnFitPending = false;
      fitLegend(gd);
    });
  }

  function afterDraw(gd) {
    if (gd && !gd.rnnStyleHook && gd.on) {
      gd.rnnStyleHook = true;
      gd.on("plotly_afterplot", function () { scheduleFit(gd); });
      scheduleFit(gd);
    }
  }

  /* The last figure Dash drew in ``gd`` (layout copied: Plotly keeps and changes
   * the layout object it is given), drawn again in the current mode. */
  function keep(gd, fig) {
    gd.rnnSource = {data: fig.data, layout: JSON.parse(JSON.stringify(fig.layout || {})),
                    frames: fig.frames, config: fig.config};
    gd.rnnDraws = (gd.rnnDraws || 0) + 1;
  }

  function redraw(gd) {
    var src = gd.rnnSource;
    if (!src || !window.Plotly) { return; }
    gd.rnnOwnDraw = true;
    try {
      window.Plotly.react(gd, copyWith(src, {
        data: (src.data || []).map(function (t) { return copyWith(t, {}); }),
        layout: JSON.parse(JSON.stringify(src.layout))}));
    } finally {
      gd.rnnOwnDraw = false;
    }
  }

  /* The "present" or "theme-dark" class changed (the Present button, its key):
   * every graph is drawn again from its last figure in the new style, and its
   * legend fitted anew. Idempotent: nothing happens while the style is the same. */
  function modeKey() {
    var m = mode();
    return (m.present ? "present" : "") + "/" + (m.dark ? "dark" : "");
  }
  var drawnMode = modeKey();

  function restyleAll() {
    var now = modeKey();
    if (now === drawnMode) { return; }
    drawnMode = now;
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
      if (!gd.rnnSource) { return; }
      gd.rnnLegendY = undefined;
      gd.rnnDraws += 1;  // a new fit budget
      redraw(gd);
    });
  }
  new MutationObserver(restyleAll).observe(root, {attributes: true, attributeFilter: ["class"]});

  /* A phone turned (or a window resized) across STACK_PX: stack or unstack. */
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
        if (gd.rnnSource && isNarrow(gd, gd.rnnSource.layout) !== gd.rnnNarrow) { redraw(gd); }
      });
    }, 150);
  });

  /* Present mode: a legend above the plot (the memory panel's key of the two
   * architectures) would sit on the two-line subplot titles; it goes to the
   * right of the plots instead (Plotly widens the right margin for it). */
  function legendBeside(layout) {
    var leg = layout.legend;
    if (leg && once(leg) && leg.y > 1) {  // every legend gets the mark (see styleFor)
      Object.assign(leg, {orientation: "v", x: 1.01, xanchor: "left", y: 1, yanchor: "top"});
    }
  }

  function styleFor(gd, fig) {
    var narrow = Boolean(gd) && isNarrow(gd, fig.layout);
    if (gd) { gd.rnnNarrow = narrow; }
    var out = styleFigure(fig, narrow);
    var leg = out && out.layout && out.layout.legend;
    if (!gd || !leg || !(leg.y < 0) || gd.rnnLegendY === undefined ||
        leg.y === gd.rnnLegendY) { return out; }
    if (out === fig) {  // not styled: copy what changes, Dash keeps the original
      out = copyWith(fig, {layout: copyWith(fig.layout, {legend: copyWith(leg, {})})});
    }
    out.layout.legend.y = gd.rnnLegendY;
    return out;
  }

  function wrap(P) {
    if (!P || P.rnnStyled) { return; }
    ["react", "newPlot"].forEach(function (name) {
      var original = P[name];
      if (typeof original !== "function") { return; }
      P[name] = function (gd, data, layout, config) {
        var done;
        var element = gd && gd.nodeType === 1;
        var fig = Array.isArray(data) ? {data: data, layout: layout, config: config} : data;
        if (!fig || typeof fig !== "object") { return original.apply(this, arguments); }
        if (element && !gd.rnnOwnDraw) { keep(gd, fig); }  // a figure from Dash
        if (Array.isArray(data)) {
          fig = styleFor(element ? gd : null, fig);
          done = original.call(this, gd, fig.data, fig.layout, fig.config);
        } else {
          done = original.call(this, gd, styleFor(element ? gd : null, fig));  // react(gd, figure)
        }
        if (done && done.then && element) {
          done.then(function () { afterDraw(gd); });
        }
        return done;
      };
    });
    P.rnnStyled = true;
  }

  if (window.Plotly) {
    wrap(window.Plotly);
  } else {
    var plotly;
    Object.defineProperty(window, "Plotly", {
      configurable: true, enumerable: true,
      get: function () { return plotly; },
      set: function (value) { plotly = value; wrap(value); }
    });
  }
})();
