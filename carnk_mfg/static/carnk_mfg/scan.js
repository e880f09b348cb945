/* Scanners type the code and press Enter. In a form marked data-scan-form, Enter moves to
 * the next text field; on the last field it submits the form. */
(function () {
  "use strict";
  var form = document.querySelector("[data-scan-form]");
  if (!form) {
    return;
  }
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input[type=text]"));
  inputs.forEach(function (input, index) {
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") {
        return;
      }
      event.preventDefault();
      var next = inputs[index + 1];
      if (next) {
        next.focus();
        next.select();
      } else if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    });
  });
})();
