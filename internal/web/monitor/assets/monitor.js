// cla monitor: live updates over Server-Sent Events and gate countdowns.
// Hand-written, no build step. Pages work without it; it only saves reloads.
(function () {
  "use strict";

  var skew = 0; // server clock minus browser clock, in ms

  function readSkew(root) {
    var el = root.querySelector("[data-now]");
    if (el) { skew = Date.parse(el.getAttribute("data-now")) - Date.now(); }
  }

  function remaining(ms) {
    if (ms <= 0) { return "due now"; }
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
        m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (d > 0) { return "in " + d + "d " + h + "h"; }
    if (h > 0) { return "in " + h + "h " + String(m).padStart(2, "0") + "m"; }
    return "in " + m + "m " + String(sec).padStart(2, "0") + "s";
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      el.textContent = remaining(Date.parse(el.getAttribute("data-deadline")) - now);
    });
  }

  // Swapping the live part must not lose what someone is typing.
  function saveForms(root) {
    var saved = { values: {}, focus: document.activeElement && document.activeElement.id };
    root.querySelectorAll("textarea[id], input[id]:not([type=hidden])").forEach(function (el) {
      if (el.value) { saved.values[el.id] = el.value; }
    });
    return saved;
  }

  function restoreForms(root, saved) {
    Object.keys(saved.values).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && root.contains(el) && !el.value) { el.value = saved.values[id]; }
    });
    if (saved.focus) {
      var f = document.getElementById(saved.focus);
      if (f && root.contains(f)) { f.focus(); }
    }
  }

  function live(job) {
    var id = job.getAttribute("data-job");
    var liveEl = document.getElementById("live");
    var entries = document.getElementById("log-entries");
    var state = document.getElementById("live-state");
    var announce = document.getElementById("announce");
    var root = liveEl.querySelector(".live-root");
    var version = Number(root.getAttribute("data-version"));
    var busy = false, again = false;

    function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      fetch("/jobs/" + encodeURIComponent(id) + "?fragment=live", { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(function (html) {
          var saved = saveForms(liveEl);
          var before = root.getAttribute("data-status");
          liveEl.innerHTML = html;
          root = liveEl.querySelector(".live-root");
          version = Number(root.getAttribute("data-version"));
          restoreForms(liveEl, saved);
          readSkew(liveEl);
          tick();
          var after = root.getAttribute("data-status");
          if (after !== before) { announce.textContent = "Job status: " + after; }
        })
        .catch(function () { state.textContent = "update failed; reload the page"; })
        .finally(function () { busy = false; if (again) { again = false; refresh(); } });
    }

    var url = "/jobs/" + encodeURIComponent(id) + "/events?after=" + job.getAttribute("data-after") + "&v=" + version;
    var es = new EventSource(url);
    es.addEventListener("open", function () { state.textContent = "live"; state.classList.add("on"); });
    es.addEventListener("error", function () { state.textContent = "reconnecting…"; state.classList.remove("on"); });
    es.addEventListener("log", function (e) {
      if (document.getElementById("log-" + e.lastEventId)) { return; }
      entries.insertAdjacentHTML("beforeend", e.data);
    });
    es.addEventListener("job", function (e) {
      if (Number(e.data) > version) { refresh(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    readSkew(document);
    tick();
    setInterval(tick, 1000);
    var job = document.getElementById("job");
    if (job && window.EventSource) { live(job); }
  });
})();
