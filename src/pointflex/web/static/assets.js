/* My Assets: the selection, the bulk bar, the confirmation dialog and the export menu.
 *
 * The selection is the rows checked on any page of the current filter (rows picked on other
 * pages travel as hidden serial fields, so paging or sorting keeps them; a new filter starts
 * afresh), or every entitlement matching the filter ("Select all N matching", sent as all=1
 * and resolved on the server). Bulk buttons only ask the server for a confirmation dialog;
 * only its Confirm button changes anything.
 */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function rowChecks() { return $all("[data-row-check]"); }

  // ------------------------------------------------------------------ rows picked on any page
  var picked = {};          // serial -> true
  var pickedFilter = null;  // the filter they were picked under

  // The filter fields the table was rendered with, less paging and order.
  function filterKey() {
    return $all("[data-filter-field]")
      .filter(function (f) { return ["page", "sort", "dir"].indexOf(f.name) < 0; })
      .map(function (f) { return f.name + "=" + f.value; }).sort().join("&");
  }

  function pickedSerials() { return Object.keys(picked).sort(); }

  // Rows picked elsewhere are sent with the form as hidden fields; this page's own are its
  // check-boxes.
  function carryOthers() {
    var box = $("#carried-serials");
    if (!box) { return; }
    var here = {};
    rowChecks().forEach(function (c) { here[c.value] = true; });
    box.textContent = "";
    pickedSerials().forEach(function (serial) {
      if (here[serial]) { return; }
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "serial";
      field.value = serial;
      box.appendChild(field);
    });
  }

  function notePage() {
    rowChecks().forEach(function (c) {
      if (c.checked) { picked[c.value] = true; } else { delete picked[c.value]; }
    });
    carryOthers();
  }

  // A new page of the table: keep what was picked under the same filter, forget it otherwise.
  function restorePage() {
    var key = filterKey();
    if (key !== pickedFilter) { picked = {}; pickedFilter = key; }
    rowChecks().forEach(function (c) { c.checked = !!picked[c.value]; });
    carryOthers();
  }

  function forgetPicked() { picked = {}; carryOthers(); }

  function selectionCount() {
    var matching = $("[data-select-matching]");
    if (matching && matching.checked) {
      var count = $("#assets-count");
      return { count: parseInt(count.dataset.total, 10), all: true };
    }
    return { count: pickedSerials().length, all: false };
  }

  function refresh() {
    var bar = $("#bulk-bar");
    if (!bar) { return; }
    var state = selectionCount();
    bar.hidden = state.count === 0;
    var label = $("#selection-count");
    label.textContent = state.count === 0 ? "" :
      (state.all ? "All " + state.count.toLocaleString("en-US") + " matching selected" :
        state.count + " selected");
    var page = $("[data-select-page]");
    var checks = rowChecks();
    if (page) {
      var checked = checks.filter(function (c) { return c.checked; }).length;
      page.checked = checks.length > 0 && checked === checks.length;
      page.indeterminate = checked > 0 && checked < checks.length;
    }
  }

  function onChange(event) {
    var target = event.target;
    if (target.matches("[data-select-page]")) {
      rowChecks().forEach(function (c) { c.checked = target.checked; });
      var matching = $("[data-select-matching]");
      if (matching && !target.checked) { matching.checked = false; }
    } else if (target.matches("[data-select-matching]")) {
      rowChecks().forEach(function (c) { c.checked = target.checked; });
    } else if (target.matches("[data-row-check]")) {
      var all = $("[data-select-matching]");
      if (all && !target.checked) { all.checked = false; }
    } else if (target.matches("[data-mode]")) {
      var end = $("[data-end-date]");
      if (end) {
        end.disabled = target.value !== "user" || !target.checked;
        end.required = !end.disabled;
      }
      return;
    } else {
      return;
    }
    notePage();
    refresh();
  }

  // ------------------------------------------------------------------ the export menu
  var menu = null;

  function hideMenu() {
    if (menu) { menu.hidden = true; }
  }

  function showMenu(x, y) {
    menu = $("#export-menu");
    if (!menu) { return; }
    var state = selectionCount();
    $("#export-title").textContent = state.count ?
      "Export " + state.count.toLocaleString("en-US") + " selected" : "Export the filtered view";
    menu.hidden = false;
    var width = menu.offsetWidth;
    var height = menu.offsetHeight;
    var left = Math.max(4, Math.min(x, window.innerWidth - width - 4));
    var top = Math.max(4, Math.min(y, window.innerHeight - height - 4));
    menu.style.left = left + "px";
    menu.style.top = top + "px";
    var first = menu.querySelector("button");
    if (first) { first.focus(); }
  }

  function exportAs(format) {
    var form = $("#bulk-form");
    var field = $("input[name=format]", form);
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "format";
      form.appendChild(field);
    }
    field.value = format;
    hideMenu();
    form.submit();
  }

  function onClick(event) {
    var target = event.target.closest ? event.target.closest("button, a") : null;
    if (menu && !menu.hidden && !(target && menu.contains(target))) {
      hideMenu();
    }
    if (!target) { return; }
    if (target.matches("[data-export-menu]")) {
      var box = target.getBoundingClientRect();
      event.stopPropagation();
      showMenu(box.left, box.bottom + 4);
    } else if (target.matches("[data-export]")) {
      exportAs(target.dataset.export);
    } else if (target.matches("[data-close-dialog]")) {
      var dialog = target.closest("dialog");
      if (dialog) { dialog.close(); }
    }
  }

  function onContextMenu(event) {
    if (!event.target.closest || !event.target.closest("[data-assets-table]")) { return; }
    event.preventDefault();
    showMenu(event.clientX, event.clientY);
  }

  function onKey(event) {
    if (event.key === "Escape") { hideMenu(); }
  }

  // ------------------------------------------------------------------ htmx hooks
  function reloadTable() {
    forgetPicked();  // the action is done: its rows are no longer "selected"
    window.htmx.ajax("GET", window.location.pathname + window.location.search,
      { target: "#assets-table", swap: "innerHTML" });
  }

  function onSwap(event) {
    var target = event.detail.target;
    if (!target) { return; }
    if (target.id === "confirm-body") {
      var dialog = $("#confirm-dialog");
      if (dialog && !dialog.open) { dialog.showModal(); }
    } else if (target.id === "assets-table") {
      keepSortInFilters();
      restorePage();
      refresh();
    }
  }

  // The filter form keeps the table's order (changed by the column headers).
  function keepSortInFilters() {
    var filters = $("#asset-filters");
    if (!filters) { return; }
    ["sort", "dir"].forEach(function (name) {
      var shown = $("[data-filter-field][name=" + name + "]");
      var field = $("input[name=" + name + "]", filters);
      if (field) { field.value = shown ? shown.value : (name === "sort" ? "serial" : "asc"); }
    });
  }

  function onAfterRequest(event) {
    var elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-confirm-form]")) {
      var dialog = $("#confirm-dialog");
      if (dialog && dialog.open) { dialog.close(); }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!$("[data-assets]")) { return; }
    document.addEventListener("change", onChange);
    document.addEventListener("click", onClick);
    document.addEventListener("contextmenu", onContextMenu);
    document.addEventListener("keydown", onKey);
    document.body.addEventListener("htmx:afterSwap", onSwap);
    document.body.addEventListener("htmx:afterRequest", onAfterRequest);
    document.body.addEventListener("assets-changed", reloadTable);
    restorePage();
    refresh();
  });
})();
