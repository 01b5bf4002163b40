/* Charts of the plan dashboard, report and indicator pages (Chart.js, vendored), drawn through
   core/charts.js from json_script data. Synthetic points are drawn hollow.
   data-chart="sparklines": one chart per row, on the canvas id "spark-<row.id>";
   data-chart="indicator": one row on this canvas; data-chart="progress-bars": [{label, progress}]. */
(function (charts) {
  "use strict";
  function sparkline(element, row) {
    if (!element || !row.series.length) { return; }
    const years = row.series.map(p => p.year);
    const datasets = [{data: row.series.map(p => p.value), borderColor: "#2563eb", tension: 0.2,
      pointRadius: 2, pointBackgroundColor: row.series.map(p => p.synthetic ? "#fff" : "#2563eb")}];
    if (row.target !== null && row.target_year) {
      if (!years.includes(row.target_year)) { years.push(row.target_year); }
      datasets.push({data: years.map(() => row.target), borderColor: "#16a34a", borderDash: [4, 4], pointRadius: 0});
      if (row.projected !== null) {
        const last = row.series[row.series.length - 1];
        datasets.push({data: years.map(y => y === last.year ? last.value : (y === row.target_year ? row.projected : null)),
          borderColor: "#d97706", borderDash: [2, 2], pointRadius: 0, spanGaps: true});
      }
    }
    new Chart(element, {type: "line", data: {labels: years, datasets},
      options: {plugins: {legend: {display: false}, tooltip: {enabled: true}}, scales: {x: {display: true, ticks: {maxTicksLimit: 5}}, y: {display: true, ticks: {maxTicksLimit: 3}}}, animation: false}});
  }
  function progressBars(element, rows) {
    if (!element || !rows.length) { return; }
    new Chart(element, {type: "bar", data: {labels: rows.map(r => r.label), datasets: [{data: rows.map(r => r.progress), backgroundColor: "#3b82f6"}]},
      options: {indexAxis: "y", plugins: {legend: {display: false}}, scales: {x: {min: 0, max: 100}}, animation: false}});
  }
  charts.sparklines = rows => rows.forEach(row => sparkline(document.getElementById("spark-" + row.id), row));
  charts.chapterBars = (id, rows) => progressBars(document.getElementById(id), rows);
  charts.register("sparklines", (element, rows) => charts.sparklines(rows));
  charts.register("indicator", sparkline);
  charts.register("progress-bars", progressBars);
}(window.sciencecityCharts));
