// cla sandbox: live updates over Server-Sent Events, confirm dialogs,
// auto-submitting checkboxes and Enter-to-send. Hand-written, no build
// step. Every form works without it; it only saves reloads.
(function () {
  "use strict";

  var busy = false, again = false;

  function nearBottom(el) { return el && el.scrollHeight - el.scrollTop - el.clientHeight < 80; }

  function scrollDown() {
    var t = document.getElementById("r-timeline");
    if (t) { t.scrollTop = t.scrollHeight; }
  }

  // A region being worked in (focus inside, an open edit) is left alone
  // until the next change.
  function busyRegion(el) {
    return el.contains(document.activeElement) && document.activeElement !== document.body ||
      el.querySelector("details[open]") !== null;
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var reload = false;
    doc.querySelectorAll("[data-live][id]").forEach(function (fresh) {
      var old = document.getElementById(fresh.id);
      if (!old) { reload = true; return; }
      if (fresh.id === "r-modal") {
        if (old.getAttribute("data-key") === fresh.getAttribute("data-key")) { return; }
        old.replaceWith(fresh);
        var first = fresh.querySelector("textarea, input[type=text], select");
        if (first) { first.focus(); }
        return;
      }
      if (old.outerHTML === fresh.outerHTML || busyRegion(old)) { return; }
      var stick = nearBottom(old);
      old.replaceWith(fresh);
      if (fresh.id === "r-timeline" && stick) { scrollDown(); }
      wire(fresh);
    });
    if (reload) { location.reload(); }
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var u = new URL(location.href);
    u.searchParams.set("partial", "1");
    fetch(u.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(swap)
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function live() {
    if (!window.EventSource || !document.getElementById("r-side")) { return; }
    var state = document.getElementById("live-state");
    var es = new EventSource("/sandbox/events");
    es.addEventListener("changed", refresh);
    // What changed between rendering the page and connecting is caught up
    // on every (re)connect.
    es.onopen = function () { if (state) { state.textContent = "● live"; } refresh(); };
    es.onerror = function () { if (state) { state.textContent = "reconnecting…"; } };
  }

  var dialog, pending;

  function confirmFirst(ev) {
    var f = ev.target;
    if (!f.hasAttribute("data-confirm-title") || !dialog || !dialog.showModal) { return; }
    ev.preventDefault();
    pending = f;
    document.getElementById("sk-confirm-title").textContent = f.getAttribute("data-confirm-title");
    document.getElementById("sk-confirm-text").textContent = f.getAttribute("data-confirm-text") || "";
    var ok = document.getElementById("sk-confirm-ok");
    ok.textContent = f.getAttribute("data-confirm-ok") || "Yes";
    ok.className = "sk-btn " + (f.getAttribute("data-confirm-style") === "danger" ? "sk-danger" : "sk-primary");
    document.getElementById("sk-confirm-deny").textContent = f.getAttribute("data-confirm-deny") || "Cancel";
    dialog.showModal();
  }

  function wire(root) {
    root.querySelectorAll("form[data-autosubmit]").forEach(function (f) {
      f.addEventListener("change", function () { f.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    dialog = document.getElementById("sk-confirm");
    if (dialog) {
      dialog.addEventListener("close", function () {
        if (dialog.returnValue === "ok" && pending) { pending.submit(); }
        pending = null;
      });
    }
    document.addEventListener("submit", confirmFirst, true);
    var composer = document.getElementById("composer");
    if (composer) {
      composer.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
          ev.preventDefault();
          if (composer.value.trim() !== "" || document.getElementById("file").value) { composer.form.submit(); }
        }
      });
      composer.focus();
    }
    wire(document);
    scrollDown();
    live();
  });
})();
