/* Electronic signature dialog (21 CFR 11.50, 11.200).
 *
 * A form marked data-esign="<meaning>" already holds its password field (class esign-field),
 * so it works without JavaScript. With it, submitting the form opens one native <dialog>
 * that states what the signature means and who signs; the form's own password field is
 * moved into the dialog while it is open and put back before the form is sent.
 *
 * Optional attributes on the form:
 *   data-esign-statement  what the signer confirms ("registered cord blood unit ...")
 *   data-esign-choice     name of a radio group whose value picks the meaning, with
 *   data-esign-meanings   a JSON map from that value to the meaning shown
 */
(function () {
  "use strict";

  var dialog = document.getElementById("esign-dialog");
  if (!dialog || typeof dialog.showModal !== "function") {
    return; // no dialog support: the password field simply stays in the form
  }
  document.documentElement.classList.add("esign-js");

  var slot = dialog.querySelector("[data-esign-slot]");
  var meaningOut = dialog.querySelector("[data-esign-meaning]");
  var statementOut = dialog.querySelector("[data-esign-statement]");
  var hint = dialog.querySelector("[data-esign-hint]");
  var active = null; // { form, field, marker } while the dialog is open

  function meaningOf(form) {
    var meaning = form.getAttribute("data-esign") || "Signed";
    var choice = form.getAttribute("data-esign-choice");
    var map = form.getAttribute("data-esign-meanings");
    if (choice && map) {
      var picked = form.querySelector('[name="' + choice + '"]:checked');
      try {
        var meanings = JSON.parse(map);
        if (picked && meanings[picked.value]) {
          meaning = meanings[picked.value];
        }
      } catch (err) {
        /* a malformed map falls back to the form's general meaning */
      }
    }
    return meaning;
  }

  function putBack() {
    if (!active) {
      return;
    }
    active.marker.parentNode.insertBefore(active.field, active.marker);
    active.marker.parentNode.removeChild(active.marker);
    active = null;
  }

  function open(form) {
    var field = form.querySelector(".esign-field");
    if (!field) {
      return false;
    }
    var marker = document.createComment("esign-field");
    field.parentNode.insertBefore(marker, field);
    slot.appendChild(field);
    active = { form: form, field: field, marker: marker };

    meaningOut.textContent = meaningOf(form);
    statementOut.textContent = form.getAttribute("data-esign-statement") || "signed this record";
    hint.hidden = true;
    var input = field.querySelector('input[name="password"]');
    dialog.showModal();
    input.focus();
    return true;
  }

  function sign() {
    if (!active) {
      return;
    }
    var input = active.field.querySelector('input[name="password"]');
    if (!input.value) {
      hint.hidden = false;
      input.focus();
      return;
    }
    var form = active.form;
    putBack();
    dialog.close();
    form.setAttribute("data-esign-signed", "1");
    // submit() does not fire the submit event again, so the dialog does not reopen.
    form.submit();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-esign]")) {
      return;
    }
    if (form.getAttribute("data-esign-signed") === "1") {
      return;
    }
    if (open(form)) {
      event.preventDefault();
    }
  });

  dialog.querySelector("[data-esign-confirm]").addEventListener("click", sign);
  dialog.querySelector("[data-esign-cancel]").addEventListener("click", function () {
    dialog.close();
  });
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.name === "password") {
      event.preventDefault();
      sign();
    }
  });
  // Escape, the cancel button and sign() all end here; the field goes home to its form.
  dialog.addEventListener("close", putBack);

  // Coming back through the browser history: the form must ask for the signature again.
  window.addEventListener("pageshow", function () {
    var signed = document.querySelectorAll("form[data-esign-signed]");
    for (var i = 0; i < signed.length; i++) {
      signed[i].removeAttribute("data-esign-signed");
    }
  });
})();
