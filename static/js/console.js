// Console behaviour that must not be inline (CSP): small, dependency-free.
// Keyboard shortcuts click the same buttons a mouse would, so every shortcut is also
// available without JavaScript and the server decides exactly as for a click.
"use strict";

(function () {
  var selectedId = null;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-table tr.qrow"));
  }

  function current() {
    if (selectedId === null) return null;
    return document.getElementById("item-" + selectedId);
  }

  function select(row, focus) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) { selectedId = null; return; }
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    selectedId = row.getAttribute("data-item");
    if (focus !== false) {
      row.scrollIntoView({ block: "nearest" });
      var link = row.querySelector("a.excerpt");
      if (link) link.focus({ preventScroll: true });
    }
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var row = current();
    var i = row ? all.indexOf(row) : -1;
    var next = all[Math.min(all.length - 1, Math.max(0, i + step))];
    if (i === -1) next = all[0];
    select(next);
  }

  function click(scope, key) {
    if (!scope) return false;
    var button = scope.querySelector('[data-key="' + key + '"]:not([disabled])');
    if (!button) return false;
    button.click();
    return true;
  }

  function openDetails(id, focusSelector) {
    var el = document.getElementById(id);
    if (!el) return false;
    el.open = true;
    var target = el.querySelector(focusSelector);
    if (target) target.focus();
    el.scrollIntoView({ block: "nearest" });
    return true;
  }

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function helpPanel() { return document.getElementById("shortcuts"); }

  function onQueuePage() { return !!document.getElementById("queue-table"); }
  function onCommentPage() { return !!document.getElementById("decision-panel"); }

  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey) return;
    var help = helpPanel();
    if (evt.key === "Escape") {
      if (help && help.open) { help.close(); return; }
      if (typing(evt.target)) { evt.target.blur(); return; }
      var back = document.querySelector(".crumbs a");
      if (back) { window.location.href = back.href; }
      return;
    }
    if (typing(evt.target)) return;
    if (evt.key === "?") {
      if (help) { help.open ? help.close() : help.showModal(); evt.preventDefault(); }
      return;
    }
    if (help && help.open) return;
    var key = evt.key;
    var handled = false;
    if (key === "/") {
      var q = document.getElementById("q");
      if (q) { q.focus(); q.select(); handled = true; }
    } else if (onQueuePage()) {
      var row = current();
      if (key === "j") { move(1); handled = true; }
      else if (key === "k") { move(-1); handled = true; }
      else if (row && (key === "Enter" || key === "o")) { window.location.href = row.getAttribute("data-href"); handled = true; }
      else if (row && key === "x") {
        var box = row.querySelector('input[type="checkbox"]');
        if (box) { box.checked = !box.checked; handled = true; }
      }
      else if (row && (key === "e" || key === "r" || key === "n")) {
        window.location.href = row.getAttribute("data-href") + "#" + { e: "escalate", r: "reply", n: "note" }[key];
        handled = true;
      }
      else if (row && (key === "a" || key === "h" || key === "c")) { handled = click(row, key); }
      else if (row && key === "d") { window.location.href = row.getAttribute("data-href") + "#delete"; handled = true; }
      else if (key === "u") { handled = click(document.querySelector("#queue-table tr.qrow-done:last-of-type"), "u"); }
    } else if (onCommentPage()) {
      var panel = document.getElementById("decision-panel");
      // An escalated item's Approve is a form that needs a reason: the key opens it.
      if (key === "a" && document.getElementById("approve-form")) { handled = openDetails("approve-form", "textarea"); }
      else if (key === "a" || key === "h" || key === "d" || key === "c" || key === "u") { handled = click(panel, key); }
      else if (key === "r") { handled = openDetails("reply", "textarea"); }
      else if (key === "e") { handled = openDetails("escalate", "input[type=radio]"); }
      else if (key === "n") { handled = openDetails("note", "textarea"); }
    }
    if (handled) evt.preventDefault();
  });

  // Irreversible buttons ask first (window.confirm needs no eval, so CSP allows it).
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopPropagation();
    }
    var opener = evt.target.closest ? evt.target.closest("[data-help-open]") : null;
    if (opener && helpPanel()) helpPanel().showModal();
    var opens = evt.target.closest ? evt.target.closest("[data-opens]") : null;
    if (opens && openDetails(opens.getAttribute("data-opens"), "textarea")) evt.preventDefault();
  }, true);

  // Signpost templates fill the reply box; the officer can still edit the text.
  document.addEventListener("change", function (evt) {
    if (!evt.target.matches || !evt.target.matches("[data-reply-template]")) return;
    var option = evt.target.selectedOptions[0];
    var text = document.getElementById("reply-text");
    if (text && option && option.getAttribute("data-text")) { text.value = option.getAttribute("data-text"); text.focus(); }
  });

  // The poll for new items is skipped while the officer has ticked rows for a bulk decision,
  // so nothing is swapped out from under them.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail && evt.detail.elt;
    if (elt && elt.id === "queue-poll" && document.querySelector('#queue-table input[name="items"]:checked')) {
      evt.preventDefault();
    }
  });

  // A refused undo (a colleague's decision) answers 403 with the panel or row saying whose
  // it is; htmx ignores error responses by default, so let that fragment (never a full
  // page) replace its target.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var d = evt.detail;
    if (d.xhr.status === 403 && d.target && d.target.matches("#decision-panel, tr[id^='item-']") &&
        !/<html/i.test(d.serverResponse)) {
      d.shouldSwap = true;
      d.isError = false;
    }
  });

  // After a swap, keep the selection on the same item or move to the next one still open.
  document.addEventListener("htmx:afterSwap", function () {
    if (!onQueuePage()) return;
    var row = current();
    if (row && row.classList.contains("qrow")) { select(row, false); return; }
    if (row) {
      var all = rows();
      var following = null;
      for (var node = row.nextElementSibling; node; node = node.nextElementSibling) {
        if (node.classList.contains("qrow")) { following = node; break; }
      }
      select(following || all[all.length - 1] || null);
    } else if (selectedId !== null) {
      select(rows()[0] || null, false);
    }
  });

  // Arriving at a comment from the queue with #delete / #reply / #escalate opens that control.
  document.addEventListener("DOMContentLoaded", function () {
    if (onQueuePage()) {
      var first = rows()[0];
      if (first) select(first, false);
    }
    if (onCommentPage()) {
      var hash = window.location.hash.replace("#", "");
      if (hash === "reply") openDetails("reply", "textarea");
      else if (hash === "escalate") openDetails("escalate", "input[type=radio]");
      else if (hash === "note") openDetails("note", "textarea");
      // #approve is no element's id: a fragment that names an element moves the focus to it
      // (or to the body) after this handler, and the reason box must keep it.
      else if (hash === "approve") openDetails("approve-form", "textarea");
      else if (hash === "delete") {
        var del = document.querySelector('#decision-panel [data-key="d"]');
        if (del) del.focus();
      }
    }
  });
})();
