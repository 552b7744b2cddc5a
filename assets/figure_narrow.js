/* Figures in narrow graphs (phones), used by assets/figure_style.js.
 *
 * A figure of two subplots side by side (x axes "x" and "x2" with disjoint
 * domains: the memory panel, and the phase diagram of both architectures) is
 * stacked when its graph is narrower than STACK_PX (at 390 px, plots side by
 * side are 150 px wide each): the first plot above the second, each at the full
 * width. What belongs to one plot moves with it: notes and shapes placed along
 * its x axis with y in "paper" units are measured in its y domain instead, and
 * paper-placed notes (titles, warnings) over a plot's x range are mapped into
 * that plot's new box.
 *
 * window.rnnNarrow.applies(width, layout): whether a graph ``width`` px wide
 *   showing ``layout`` is stacked.
 * window.rnnNarrow.stack(layout): stacks ``layout`` in place (the caller's
 *   copy).
 */
(function () {
  "use strict";
  var STACK_PX = 560;
  var TOP = [0.6, 1];  // y domains of the stacked plots; between them: the upper
  var BOTTOM = [0, 0.34];  // plot's x axis and the lower plot's title

  function stackable(layout) {
    var a = layout && layout.xaxis;
    var b = layout && layout.xaxis2;
    return Boolean(a && b && !layout.xaxis3 && Array.isArray(a.domain) &&
                   Array.isArray(b.domain) && a.domain[1] <= b.domain[0]);
  }

  function applies(width, layout) {
    return width > 0 && width < STACK_PX && stackable(layout);
  }

  /* A paper-placed note over x range ``from`` goes to the same place in ``box``. */
  function moveInto(note, from, box) {
    note.x = (note.x - from[0]) / (from[1] - from[0]);
    note.y = box[0] + note.y * (box[1] - box[0]);
  }

  function stack(layout) {
    var first = layout.xaxis.domain.slice();
    var second = layout.xaxis2.domain.slice();
    layout.xaxis.domain = [0, 1];
    layout.xaxis2.domain = [0, 1];
    layout.yaxis = Object.assign(layout.yaxis || {}, {domain: TOP});
    layout.yaxis2 = Object.assign(layout.yaxis2 || {}, {domain: BOTTOM});
    (layout.shapes || []).concat(layout.annotations || []).forEach(function (o) {
      var x = /^(x2?)( domain)?$/.exec(o.xref || "");
      if (o.yref === "paper" && x) { o.yref = x[1].replace("x", "y") + " domain"; }
      if (o.xref !== "paper" || o.yref !== "paper" || o.visible === false ||
          typeof o.x !== "number" || typeof o.y !== "number") { return; }
      if (o.x >= second[0]) { moveInto(o, second, BOTTOM); }
      else if (o.x <= first[1]) { moveInto(o, first, TOP); }
    });
  }

  window.rnnNarrow = {applies: applies, stack: stack};
})();
