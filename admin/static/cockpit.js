// Draws the cockpit's two bar charts from the JSON the page carries: ordered [label, amount text] pairs.
(function () {
  const data = JSON.parse(document.getElementById("cockpit-data").textContent);
  const labels = JSON.parse(document.getElementById("cockpit-labels").textContent);
  function bars(canvasId, series, names) {
    new Chart(document.getElementById(canvasId), {
      type: "bar",
      data: {
        labels: series.map(([k]) => names[k] || k),
        datasets: [{ label: labels.amount, data: series.map(([, v]) => Number(v)), backgroundColor: "#4e79a7" }],
      },
      options: { animation: false, plugins: { legend: { display: false } } },
    });
  }
  bars("chart-buckets", data.buckets, {});
  bars("chart-five-tier", data.five_tier, labels);
})();
