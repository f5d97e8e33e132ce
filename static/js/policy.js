// Policy admin pages: show only the chosen trigger's fields on the rule form (CSP: no inline
// handlers). Without JavaScript every option stays visible and the server still validates.
"use strict";
(function () {
  function sync(group) {
    var checked = group.querySelector('input[name="trigger"]:checked');
    var value = checked ? checked.value : null;
    group.querySelectorAll("[data-trigger]").forEach(function (el) {
      el.hidden = value !== null && el.getAttribute("data-trigger") !== value;
    });
  }
  function init(root) {
    root.querySelectorAll("[data-trigger-group]").forEach(sync);
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.name === "trigger") {
      var group = e.target.closest("[data-trigger-group]");
      if (group) sync(group);
    }
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();
