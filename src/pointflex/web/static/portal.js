/* pointflex portal: the little behaviour the server-rendered pages need.
 *
 * No inline scripts or styles anywhere, so the portal runs under
 * "Content-Security-Policy: default-src 'self'". Everything starts from data attributes:
 *   data-chart="ID"  a uPlot chart of the JSON in <script type="application/json" id="ID">
 *                    ({"label": ..., "x": [unix seconds], "y": [numbers]})
 * init() runs on page load and on every piece of content htmx swaps in.
 */
(function () {
  "use strict";

  var CHART_HEIGHT = 220;
  var MIN_WIDTH = 200;

  function formatNumber(value) {
    if (value === null || value === undefined) {
      return "—";
    }
    return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function chartWidth(box) {
    return Math.max(Math.floor(box.clientWidth), MIN_WIDTH);
  }

  function drawChart(box) {
    if (box.dataset.drawn || typeof window.uPlot === "undefined") {
      return;
    }
    var source = document.getElementById(box.dataset.chart);
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    box.dataset.drawn = "1";
    var uPlot = window.uPlot;
    var options = {
      width: chartWidth(box),
      height: CHART_HEIGHT,
      // Days are sent as midnight UTC: show them in UTC, or a browser west of Greenwich
      // would label each day with the day before.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: {
        x: { time: true },
        // Points from zero: an axis starting at the lowest day would exaggerate changes.
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } }
      },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: "Day", value: "{YYYY}-{MM}-{DD}" },
        {
          label: data.label,
          stroke: "#1d4ed8",
          fill: "rgba(29, 78, 216, 0.12)",
          width: 2,
          points: { show: false },
          value: function (u, v) { return formatNumber(v); }
        }
      ],
      axes: [
        { stroke: "#4b5563", grid: { stroke: "#e5e7eb" }, ticks: { stroke: "#e5e7eb" } },
        { stroke: "#4b5563", grid: { stroke: "#e5e7eb" }, ticks: { stroke: "#e5e7eb" }, size: 64 }
      ]
    };
    var plot = new uPlot(options, [data.x, data.y], box);
    if ("ResizeObserver" in window) {
      var width = options.width;
      var observer = new ResizeObserver(function () {
        // Resize in the next frame, and only when the width changed: resizing inside the
        // observer's callback could loop (a "ResizeObserver loop" error).
        window.requestAnimationFrame(function () {
          var wanted = chartWidth(box);
          if (wanted !== width) {
            width = wanted;
            plot.setSize({ width: wanted, height: CHART_HEIGHT });
          }
        });
      });
      observer.observe(box);
    }
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-chart]")) {
      drawChart(scope);
    }
    scope.querySelectorAll("[data-chart]").forEach(drawChart);
  }

  // Deferred scripts (uPlot included) have all run before DOMContentLoaded.
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();
