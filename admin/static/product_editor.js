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
      const group = input || !problem.pointer ? null
        : form.querySelector('fieldset[data-pointer="' + CSS.escape(problem.pointer) + '"]');
      if (group && group.querySelector("legend")) {  // a list or an object as a whole: the note goes under its title
        const note = document.createElement("div");
        note.className = "lf-field-error lf-live-error";
        note.dataset.pointer = problem.pointer;
        note.textContent = problem.message;
        group.querySelector("legend").after(note);
        continue;
      }
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
      apr: proof.shown.apr, allowance: proof.shown.allowance, cap: proof.shown.cap, cases: proof.cases,
    }) : labels.proof_failed;
  }

  async function refresh() {
    const mine = ++sequence;
    status.textContent = labels.checking;
    const body = new FormData(form);
    body.delete("_action");
    // a read-only view disables its selects, and FormData leaves disabled fields out: add them back, or
    // the check would report filled fields as missing
    form.querySelectorAll("select[name]:disabled").forEach((el) => body.append(el.name, el.value));
    const response = await fetch(panel.dataset.url, { method: "POST", body: body, credentials: "same-origin" });
    if (mine !== sequence || !response.ok) return;
    const result = await response.json();
    const loose = markProblems(result.problems || []);
    status.className = "small " + (result.ok ? "text-success" : "text-danger");
    status.textContent = result.ok ? "✓" : labels.problems + ": " + result.problems.length +
      (loose.length ? " — " + loose.map((p) => (p.pointer || "/") + " " + p.message).join("; ") : "");
    panel.dataset.state = result.ok ? "ok" : "problems";
    showSections(result.problems || []);
    if (result.schedule) showSchedule(result.schedule);
    showProof(result.proof);
  }

  // Each section's state from the live check: valid, or how many problems its fields have; the progress
  // bar counts the valid sections. A problem without a field (the document as a whole) counts nowhere.
  function showSections(problems) {
    const cards = Array.from(document.querySelectorAll(".lf-section"));
    let valid = 0;
    for (const card of cards) {
      const fields = card.dataset.fields.trim().split(/\s+/);
      const count = problems.filter((p) => fields.some((f) => p.pointer === f || p.pointer.startsWith(f + "/"))).length;
      const key = card.dataset.section;
      card.dataset.state = count ? "problems" : "valid";
      for (const badge of [document.getElementById("section-state-" + key), document.getElementById("step-state-" + key)]) {
        if (!badge) continue;
        badge.className = badge.className.replace(/badge-(light|success|danger)/, count ? "badge-danger" : "badge-success");
        badge.textContent = count ? format(labels.section_problems, { count: count }) : "✓ " + labels.section_valid;
      }
      if (!count) valid += 1;
    }
    const bar = document.getElementById("editor-progress-bar");
    const text = document.getElementById("editor-progress-text");
    if (bar && cards.length) bar.style.width = Math.round((100 * valid) / cards.length) + "%";
    if (text) text.textContent = format(text.dataset.template, { valid: valid, total: cards.length });
  }

  // Lists are edited in place: "add" and "remove" post the form to the section endpoint, which answers the
  // list's section re-rendered; it replaces the old one and the page stays where it was.
  form.addEventListener("click", async (event) => {
    const button = event.target.closest("button[name=_edit]");
    const url = panel.dataset.sectionUrl;
    if (!button || !url) return;
    event.preventDefault();
    const card = button.closest(".lf-section");
    const body = new FormData(form);
    body.delete("_action");
    form.querySelectorAll("select[name]:disabled").forEach((el) => body.append(el.name, el.value));
    body.set("_edit", button.value);
    body.set("_section", card.dataset.section);
    const response = await fetch(url, { method: "POST", body: body, credentials: "same-origin" });
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const fresh = holder.querySelector(".lf-section");
    if (fresh) { card.replaceWith(fresh); later(); }
  });

  // Check, save and submit reload the page: come back to where the user was.
  const spot = "lf-editor-scroll:" + location.pathname;
  form.addEventListener("submit", () => sessionStorage.setItem(spot, String(window.scrollY)));
  const saved = sessionStorage.getItem(spot);
  if (saved !== null) {
    sessionStorage.removeItem(spot);
    if ("scrollRestoration" in history) history.scrollRestoration = "manual";
    window.scrollTo(0, Number(saved));
    window.addEventListener("load", () => window.scrollTo(0, Number(saved)));
  }

  function later() { clearTimeout(timer); timer = setTimeout(refresh, 500); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  refresh();
})();
