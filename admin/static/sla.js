// Counts each SLA down every second from the seconds the server computed; late tasks turn red.
(function () {
  const labels = JSON.parse(document.getElementById("sla-labels").textContent);
  const started = Date.now();
  const cells = Array.from(document.querySelectorAll(".lf-sla"));
  function text(seconds) {
    const s = Math.abs(seconds);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const clock = h + ":" + String(m).padStart(2, "0") + ":" + String(r).padStart(2, "0");
    return seconds < 0 ? labels.late + " " + clock : clock + " " + labels.left;
  }
  function tick() {
    const gone = Math.floor((Date.now() - started) / 1000);
    for (const cell of cells) {
      const left = Number(cell.dataset.seconds) - gone;
      cell.textContent = text(left);
      cell.classList.toggle("lf-sla-late", left < 0);
    }
  }
  tick();
  setInterval(tick, 1000);
})();
