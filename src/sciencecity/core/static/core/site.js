/* Behaviour shared by every page, bound through data attributes: the Content-Security-Policy
   forbids inline scripts and on…= handlers.
   data-autosubmit   on a <select>: submit its form when the choice changes
   data-print        on a button: print the page
   data-select-on-focus on an input: select its whole text when focused (one-time secrets)
   data-copy="ID"    on a button: copy the value of the input with that id; the button then reads
                     its data-copied text for two seconds
   data-nav-toggle   on a button: open and close the element named by its aria-controls (phone menu)
   data-nav-group    on an <li> holding a button[aria-expanded][aria-controls] and the list it names: a
                     disclosure menu (Enter, Space or a click opens and closes it; Escape closes it and
                     returns focus to the button; it closes when focus or a click goes elsewhere; opening
                     one closes the others). <html> gets class "js": the CSS fallback for pages without
                     JavaScript (the list opens on hover and focus) then stands down.
   tables in main    get each cell's column heading as data-label (shown when a table becomes cards) */
(function () {
  "use strict";
  function bind(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      if (select.dataset.bound) { return; }
      select.dataset.bound = "1";
      select.addEventListener("change", function () {
        if (select.form) { select.form.submit(); }
      });
    });
    root.querySelectorAll("[data-print]").forEach(function (button) {
      if (button.dataset.bound) { return; }
      button.dataset.bound = "1";
      button.addEventListener("click", function () { window.print(); });
    });
    root.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      if (input.dataset.bound) { return; }
      input.dataset.bound = "1";
      input.addEventListener("focus", function () { input.select(); });
    });
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (button.dataset.bound) { return; }
      button.dataset.bound = "1";
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.copy);
        if (!input) { return; }
        var label = button.textContent;
        function done() {
          button.textContent = button.dataset.copied || label;
          window.setTimeout(function () { button.textContent = label; }, 2000);
        }
        input.focus();
        input.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });
    root.querySelectorAll("button[data-nav-toggle]").forEach(function (button) {
      if (button.dataset.bound) { return; }
      button.dataset.bound = "1";
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        button.setAttribute("aria-expanded", open ? "true" : "false");
        var target = document.getElementById(button.getAttribute("aria-controls"));
        if (target) { target.classList.toggle("nav-open", open); }
      });
    });
    root.querySelectorAll("[data-nav-group]").forEach(function (group) {
      if (group.dataset.bound) { return; }
      group.dataset.bound = "1";
      var button = group.querySelector("button[aria-controls]");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        closeGroups(open ? group : null);
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
      group.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
          button.setAttribute("aria-expanded", "false");
          button.focus();
          event.preventDefault();
        }
      });
      group.addEventListener("focusout", function (event) {
        if (event.relatedTarget && !group.contains(event.relatedTarget)) {
          button.setAttribute("aria-expanded", "false");
        }
      });
    });
    root.querySelectorAll("main table").forEach(function (table) {
      if (table.dataset.labelled) { return; }
      table.dataset.labelled = "1";
      var headings = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      if (!headings.length) { return; }
      table.classList.add("cards-on-phone");
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          if (headings[column] && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", headings[column]); }
          column += cell.colSpan || 1;
        });
      });
    });
  }
  function closeGroups(except) {
    document.querySelectorAll("[data-nav-group] > button[aria-expanded=true]").forEach(function (button) {
      if (button.parentNode !== except) { button.setAttribute("aria-expanded", "false"); }
    });
  }
  document.documentElement.classList.add("js");
  /* A click outside every menu group closes the open one. */
  document.addEventListener("click", function (event) {
    if (!(event.target.closest && event.target.closest("[data-nav-group]"))) { closeGroups(null); }
  });
  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  /* Content swapped in by htmx gets the same behaviour. */
  document.addEventListener("htmx:load", function (event) { bind(event.target); });
}());
