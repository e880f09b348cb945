/* Idle sign-out warning. The server ends a browser session after the idle timeout
 * (carnk_mfg/sessions.py); shortly before, this shows a notice with a button that keeps
 * the session, and at the timeout it reloads the page, which leads to the sign-in page. */
(function () {
  "use strict";
  var body = document.body;
  var timeout = parseInt(body.getAttribute("data-idle-timeout") || "", 10);
  var warnAt = parseInt(body.getAttribute("data-idle-warn") || "", 10);
  var keepUrl = body.getAttribute("data-idle-keep-url");
  var notice = document.getElementById("idle-warning");
  if (!timeout || !notice || !keepUrl) {
    return;
  }
  var warnTimer = null;
  var endTimer = null;

  function arm() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    notice.hidden = true;
    warnTimer = window.setTimeout(function () {
      notice.hidden = false;
      var button = notice.querySelector("button");
      if (button) {
        button.focus();
      }
    }, warnAt * 1000);
    endTimer = window.setTimeout(function () {
      window.location.reload();
    }, timeout * 1000 + 1000);
  }

  notice.querySelector("button").addEventListener("click", function () {
    fetch(keepUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": body.getAttribute("data-idle-csrf") || "" }
    }).then(function (answer) {
      if (answer.ok) {
        arm();
      } else {
        window.location.reload();
      }
    });
  });
  arm();
})();
