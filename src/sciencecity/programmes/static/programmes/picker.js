/* Search-and-pick boxes (data-picker): type to search data-url, pick results into hidden inputs named data-name.
   A static file: the CSP forbids inline scripts. */
document.querySelectorAll("[data-picker]").forEach(function (box) {
  var input = box.querySelector("[data-query]"), results = box.querySelector("[data-results]");
  var chosen = box.querySelector("[data-chosen]"), timer = null;
  function add(id, label) {
    if (!box.hasAttribute("data-multiple")) { chosen.innerHTML = ""; }
    if (chosen.querySelector('[data-id="' + id + '"]')) { return; }
    var item = document.createElement("li"), hidden = document.createElement("input"), remove = document.createElement("button");
    item.dataset.id = id;
    item.textContent = label + " ";
    hidden.type = "hidden"; hidden.name = box.dataset.name; hidden.value = id;
    remove.type = "button"; remove.className = "secondary outline small"; remove.textContent = box.dataset.removeLabel;
    remove.setAttribute("data-remove", "");
    item.appendChild(hidden); item.appendChild(remove); chosen.appendChild(item);
  }
  function search() {
    var query = input.value.trim();
    if (!query) { results.innerHTML = ""; return; }
    fetch(box.dataset.url + "?q=" + encodeURIComponent(query), {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (rows) {
        results.innerHTML = "";
        rows.forEach(function (row) {
          var item = document.createElement("li"), button = document.createElement("button");
          button.type = "button"; button.className = "outline small"; button.textContent = row.label;
          button.dataset.pick = row.id;
          button.addEventListener("click", function () { add(row.id, row.label); results.innerHTML = ""; input.value = ""; });
          item.appendChild(button); results.appendChild(item);
        });
      });
  }
  chosen.addEventListener("click", function (event) {
    if (event.target.matches("[data-remove]")) { event.target.closest("li").remove(); }
  });
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 250); });
  input.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); search(); } });
});
