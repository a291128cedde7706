// Live preview of the product editor: posts the form to the preview endpoint as it changes (debounced),
// then shows the default loan's schedule (table and Chart.js chart), its APR, the cap proof and every
// problem at the input its JSON pointer names. The server is the only validator.
(function () {
  const form = document.getElementById("product-form");
  const panel = document.getElementById("preview");
  if (!form || !panel) return;
  const labels = JSON.parse(document.getElementById("preview-labels").textContent);
  const status = document.getElementById("preview-status");
  let chart = null;
  let timer = null;
  let sequence = 0;

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, key) => values[key]);
  }

  function inputFor(pointer) {
    return form.querySelector('[name="' + CSS.escape(pointer) + '"]');
  }

  function markProblems(problems) {
    form.querySelectorAll(".lf-live-error").forEach((el) => el.remove());
    form.querySelectorAll(".is-invalid.lf-live").forEach((el) => el.classList.remove("is-invalid", "lf-live"));
    const loose = [];
    for (const problem of problems) {
      const input = inputFor(problem.pointer);
      if (!input) { loose.push(problem); continue; }
      if (!input.classList.contains("is-invalid")) input.classList.add("is-invalid", "lf-live");
      const note = document.createElement("div");
      note.className = "lf-field-error lf-live-error";
      note.dataset.pointer = problem.pointer;
      note.textContent = problem.message;
      input.parentElement.appendChild(note);
    }
    return loose;
  }

  function showSchedule(schedule) {
    const figures = document.getElementById("preview-figures");
    figures.innerHTML = "";
    for (const key of ["amount", "term", "method", "annual_rate", "apr", "effective_annual_rate", "upfront_fee"]) {
      const dt = document.createElement("dt"); dt.className = "col-6"; dt.textContent = labels[key];
      const dd = document.createElement("dd"); dd.className = "col-6 mb-0"; dd.textContent = schedule[key];
      dd.id = "preview-" + key.replace(/_/g, "-");
      figures.append(dt, dd);
    }
    const rows = schedule.rows;
    const table = document.getElementById("preview-rows");
    const head = ["period", "due_date", "principal", "interest", "fee", "total"];
    table.innerHTML = "<thead><tr>" + head.map((k) => "<th>" + labels[k] + "</th>").join("") + "</tr></thead>";
    const body = document.createElement("tbody");
    for (const row of rows) {
      const tr = document.createElement("tr");
      for (const k of head) { const td = document.createElement("td"); td.textContent = row[k]; tr.appendChild(td); }
      body.appendChild(tr);
    }
    table.appendChild(body);
    const data = {
      labels: rows.map((r) => r.period),
      datasets: [
        { label: labels.principal, data: rows.map((r) => Number(r.principal)), backgroundColor: "#4e79a7" },
        { label: labels.interest, data: rows.map((r) => Number(r.interest)), backgroundColor: "#f28e2b" },
        { label: labels.fee, data: rows.map((r) => Number(r.fee)), backgroundColor: "#59a14f" },
      ],
    };
    if (chart) chart.destroy();
    chart = new Chart(document.getElementById("preview-chart"), {
      type: "bar", data: data,
      options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true } } },
    });
  }

  function showProof(proof) {
    const box = document.getElementById("preview-proof");
    if (!proof) { box.textContent = ""; return; }
    box.className = "small mt-2 " + (proof.passed ? "text-success" : "text-danger");
    box.textContent = proof.passed ? format(labels.proof_passed, {
      apr: proof.worst.apr, allowance: proof.worst.rounding_allowance, cap: proof.cap, cases: proof.cases,
    }) : labels.proof_failed;
  }

  async function refresh() {
    const mine = ++sequence;
    status.textContent = labels.checking;
    const body = new FormData(form);
    body.delete("_action");
    const response = await fetch(panel.dataset.url, { method: "POST", body: body, credentials: "same-origin" });
    if (mine !== sequence || !response.ok) return;
    const result = await response.json();
    const loose = markProblems(result.problems || []);
    status.className = "small " + (result.ok ? "text-success" : "text-danger");
    status.textContent = result.ok ? "✓" : labels.problems + ": " + result.problems.length +
      (loose.length ? " — " + loose.map((p) => (p.pointer || "/") + " " + p.message).join("; ") : "");
    panel.dataset.state = result.ok ? "ok" : "problems";
    if (result.schedule) showSchedule(result.schedule);
    showProof(result.proof);
  }

  function later() { clearTimeout(timer); timer = setTimeout(refresh, 500); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  refresh();
})();
