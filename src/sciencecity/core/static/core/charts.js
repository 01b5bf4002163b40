/* Charts drawn from data, without inline scripts (the Content-Security-Policy forbids them).
   An element with data-chart="KIND" and data-chart-source="ID" is drawn by the renderer KIND from
   the JSON of the element ID (a {{ value|json_script:"ID" }}); data-chart-key="K" takes data[K].
   Renderers register with sciencecityCharts.register(KIND, function (element, data) {...}); this
   file has "bar": data {labels, datasets}, {labels, data|values} or [[label, value], ...];
   options data-chart-label, data-chart-color, data-chart-stacked, data-chart-horizontal.
   Load order: Chart.js, this file, the files that register more kinds; drawing starts at
   DOMContentLoaded. */
window.sciencecityCharts = window.sciencecityCharts || {};
(function (charts) {
  "use strict";
  charts.renderers = charts.renderers || {};
  charts.register = function (kind, render) { charts.renderers[kind] = render; };

  charts.renderAll = function (root) {
    (root || document).querySelectorAll("[data-chart]").forEach(function (element) {
      var render = charts.renderers[element.dataset.chart];
      if (element.dataset.chartDrawn || !render || typeof Chart === "undefined") { return; }
      var source = document.getElementById(element.dataset.chartSource);
      if (!source) { return; }
      var data = JSON.parse(source.textContent);
      if (element.dataset.chartKey) { data = data ? data[element.dataset.chartKey] : null; }
      if (data === null || data === undefined) { return; }
      element.dataset.chartDrawn = "1";
      render(element, data);
    });
  };

  charts.register("bar", function (element, data) {
    var labels, datasets, single;
    if (Array.isArray(data)) {
      labels = data.map(function (row) { return row[0]; });
      datasets = [{data: data.map(function (row) { return row[1]; })}];
      single = true;
    } else {
      labels = data.labels;
      single = !data.datasets;
      datasets = data.datasets || [{data: data.data || data.values}];
    }
    if (single) {
      datasets[0].label = element.dataset.chartLabel || "";
      if (element.dataset.chartColor) { datasets[0].backgroundColor = element.dataset.chartColor; }
    }
    var stacked = "chartStacked" in element.dataset, horizontal = "chartHorizontal" in element.dataset;
    var values = {stacked: stacked, beginAtZero: true, ticks: {precision: 0}}, categories = {stacked: stacked};
    new Chart(element, {
      type: "bar",
      data: {labels: labels, datasets: datasets},
      options: {
        responsive: true,
        indexAxis: horizontal ? "y" : "x",
        plugins: {legend: {display: !single}},
        scales: horizontal ? {x: values, y: categories} : {x: categories, y: values},
      },
    });
  });

  document.addEventListener("DOMContentLoaded", function () { charts.renderAll(document); });
}(window.sciencecityCharts));
