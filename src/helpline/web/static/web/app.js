// Small conveniences for the agent UI. Everything works without this file.
(function () {
  "use strict";
  // Ctrl/Cmd+Enter sends the composer.
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      var form = event.target.closest && event.target.closest("#composer form");
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });
  // A click anywhere on a list row opens it (the link stays the real, accessible target).
  document.addEventListener("click", function (event) {
    if (event.target.closest("a, button, input, select, label")) return;
    var row = event.target.closest("tr.row");
    if (!row) return;
    var link = row.querySelector("a.row-link");
    if (link) window.location.href = link.href;
  });
  // Filters: leave empty fields out of the URL, so it stays short and shareable.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") return;
    var params = event.detail.parameters;
    Object.keys(params).forEach(function (key) {
      if (params[key] === "") delete params[key];
    });
  });
  // Keep the newest message in view after a reply is added.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "conversation") {
      var last = event.detail.target.lastElementChild;
      if (last) last.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });
})();
