/* Reloads a page that waits on the server (an instrument file being parsed) every few
 * seconds, for as long as the page carries an element marked data-reload-after (seconds).
 * A static file, not inline script: the Content-Security-Policy allows scripts from 'self'. */
(function () {
  "use strict";
  var marker = document.querySelector("[data-reload-after]");
  if (!marker) {
    return;
  }
  var seconds = parseInt(marker.getAttribute("data-reload-after") || "", 10) || 2;
  window.setTimeout(function () {
    window.location.reload();
  }, seconds * 1000);
})();
