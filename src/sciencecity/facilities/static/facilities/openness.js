// Openness chart: utilisation and external-user share per host (bars, %), SME hours (line, right axis).
(function () {
  var source = document.getElementById("openness-data");
  var canvas = document.getElementById("openness-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  new Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        {type: "bar", label: data.names.utilisation, data: data.utilisation, yAxisID: "pct"},
        {type: "bar", label: data.names.external_share, data: data.external_share, yAxisID: "pct"},
        {type: "line", label: data.names.sme_hours, data: data.sme_hours, yAxisID: "hours"}
      ]
    },
    options: {scales: {pct: {position: "left", min: 0, max: 100}, hours: {position: "right", min: 0}}}
  });
})();
