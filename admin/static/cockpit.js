// Draws the cockpit's two bar charts from the JSON the page carries (amounts are exact decimal strings).
(function () {
  const data = JSON.parse(document.getElementById("cockpit-data").textContent);
  const labels = JSON.parse(document.getElementById("cockpit-labels").textContent);
  function bars(canvasId, series, names) {
    const keys = Object.keys(series);
    new Chart(document.getElementById(canvasId), {
      type: "bar",
      data: {
        labels: keys.map((k) => names[k] || k),
        datasets: [{ label: labels.amount, data: keys.map((k) => Number(series[k])), backgroundColor: "#4e79a7" }],
      },
      options: { animation: false, plugins: { legend: { display: false } } },
    });
  }
  bars("chart-buckets", data.buckets, {});
  bars("chart-five-tier", data.five_tier, labels);
})();
