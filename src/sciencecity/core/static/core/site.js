/* Behaviour shared by every page, bound through data attributes: the Content-Security-Policy
   forbids inline scripts and on…= handlers.
   data-autosubmit   on a <select>: submit its form when the choice changes
   data-print        on a button: print the page
   data-select-on-focus on an input: select its whole text when focused (one-time secrets) */
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
  }
  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  /* Content swapped in by htmx gets the same behaviour. */
  document.addEventListener("htmx:load", function (event) { bind(event.target); });
}());
