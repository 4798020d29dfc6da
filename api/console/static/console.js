// Live progress of a solve or re-solve job: polls the job's small JSON status and updates the bar;
// reloads the page once the job has finished (the review is rendered by the server).
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || box.dataset.finished === "true") { return; }
  var url = box.dataset.statusUrl;
  var bar = document.getElementById("bar");
  var elapsed = document.getElementById("elapsed");
  var objective = document.getElementById("objective");
  var state = document.getElementById("state");
  function show(s) {
    var badge = state && state.querySelector(".state");
    if (badge && state.dataset[s.state]) {
      badge.textContent = state.dataset[s.state];
      badge.className = "state state-" + s.state;
    }
    bar.value = Math.round((s.fraction || 0) * 100);
    bar.textContent = bar.value + "%";
    if (s.elapsed !== null && s.elapsed !== undefined) { elapsed.textContent = s.elapsed.toFixed(1) + " s"; }
    if (s.objective !== null && s.objective !== undefined) { objective.textContent = Math.round(s.objective).toString(); }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        show(s);
        if (s.finished) { window.location.reload(); } else { window.setTimeout(poll, 700); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();
