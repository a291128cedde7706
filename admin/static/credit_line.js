// Draws a credit line's usage from the JSON the page carries: each level's limit and what is used of it.
(function () {
  const data = JSON.parse(document.getElementById("usage-data").textContent);
  const labels = JSON.parse(document.getElementById("usage-labels").textContent);
  new Chart(document.getElementById("chart-usage"), {
    type: "bar",
    data: {
      labels: data.levels.map(([name]) => name),
      datasets: [
        { label: labels.limit, data: data.levels.map(([, limit]) => Number(limit)), backgroundColor: "#a0cbe8" },
        { label: labels.used, data: data.levels.map(([, , used]) => Number(used)), backgroundColor: "#4e79a7" },
      ],
    },
    options: { animation: false },
  });
})();
