// Draws the cockpit's bar charts (and the stacked income by product and month) from the JSON the page carries: ordered [label, amount text] pairs.
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
  const palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"];
  new Chart(document.getElementById("chart-income"), {
    type: "bar",
    data: {
      labels: data.income.months,
      datasets: data.income.products.map(([product, amounts], i) => ({
        label: product, data: amounts.map(Number), backgroundColor: palette[i % palette.length] })),
    },
    options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true } } },
  });
})();
