/* Formset rows added in the browser: a button data-add-row="PREFIX" copies <template data-empty-row="PREFIX">
   into <table data-formset="PREFIX"> and counts it in PREFIX-TOTAL_FORMS. A static file: the CSP forbids inline scripts. */
document.querySelectorAll("[data-add-row]").forEach(function (button) {
  button.addEventListener("click", function () {
    var prefix = button.dataset.addRow;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.querySelector('template[data-empty-row="' + prefix + '"]');
    var html = template.innerHTML.replace(/__prefix__/g, total.value);
    document.querySelector('table[data-formset="' + prefix + '"] tbody').insertAdjacentHTML("beforeend", html);
    total.value = parseInt(total.value, 10) + 1;
  });
});
