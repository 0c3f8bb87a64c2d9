/* Entitlement details page: confirmation dialogs and the termination mode's date field.
 *   data-open-dialog="ID"  opens <dialog id="ID"> as a modal
 *   data-close-dialog      closes the dialog it is in
 *   data-termination       a fieldset whose date field shows only for User Defined
 */
(function () {
  "use strict";

  function syncTermination(fieldset) {
    var user = fieldset.querySelector('input[data-mode="user"]');
    var box = fieldset.querySelector("[data-end-date]");
    if (!user || !box) {
      return;
    }
    var input = box.querySelector("input");
    box.hidden = !user.checked;
    if (input) {
      input.required = user.checked;
      input.disabled = !user.checked;
    }
  }

  function init() {
    document.querySelectorAll("[data-open-dialog]").forEach(function (button) {
      button.addEventListener("click", function () {
        var dialog = document.getElementById(button.dataset.openDialog);
        if (dialog && dialog.showModal) {
          dialog.showModal();
        }
      });
    });
    document.querySelectorAll("[data-close-dialog]").forEach(function (button) {
      button.addEventListener("click", function () {
        var dialog = button.closest("dialog");
        if (dialog) {
          dialog.close();
        }
      });
    });
    document.querySelectorAll("[data-termination]").forEach(function (fieldset) {
      fieldset.querySelectorAll('input[type="radio"]').forEach(function (radio) {
        radio.addEventListener("change", function () { syncTermination(fieldset); });
      });
      syncTermination(fieldset);
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
