/* Filters of the generated pages (no external script): text and kind filters of the audit
   table, and the "what ran on date X" view of the environments page. */
(function () {
  "use strict";

  function rowsOf(id) {
    var table = document.getElementById(id);
    return table ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  }

  function showCount(id, shown, total, noun) {
    var out = document.querySelector('.mlops-count[data-for="' + id + '"]');
    if (out) { out.textContent = shown + " of " + total + " " + noun; }
  }

  function filterTable(id) {
    var text = document.querySelector('.mlops-filter-input[data-table="' + id + '"]');
    var kind = document.querySelector('.mlops-filter-kind[data-table="' + id + '"]');
    var words = text ? text.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var wanted = kind ? kind.value : "";
    var rows = rowsOf(id), shown = 0;
    rows.forEach(function (row) {
      var haystack = row.textContent.toLowerCase();
      var ok = words.every(function (w) { return haystack.indexOf(w) >= 0; });
      ok = ok && (!wanted || row.getAttribute("data-kind") === wanted);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    showCount(id, shown, rows.length, "events");
  }

  function showDate(input) {
    var id = input.getAttribute("data-table");
    var rows = rowsOf(id), shown = 0;
    var day = input.value;
    rows.forEach(function (row) {
      var start = row.getAttribute("data-start"), end = row.getAttribute("data-end");
      var ok = !day || (start.slice(0, 10) <= day && (!end || end.slice(0, 10) >= day));
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    showCount(id, shown, rows.length, day ? "ran on " + day : "spans");
  }

  function start() {
    document.querySelectorAll(".mlops-filter-input, .mlops-filter-kind").forEach(function (el) {
      var id = el.getAttribute("data-table");
      el.addEventListener("input", function () { filterTable(id); });
      el.addEventListener("change", function () { filterTable(id); });
      filterTable(id);
    });
    document.querySelectorAll(".mlops-date").forEach(function (el) {
      el.addEventListener("input", function () { showDate(el); });
      el.addEventListener("change", function () { showDate(el); });
      showDate(el);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
