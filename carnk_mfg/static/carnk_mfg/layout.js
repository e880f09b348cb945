/* The layout on tablets and phones.
 *
 * The header's menu: below the breakpoint in app.css the navigation folds behind the Menu
 * button. Without this script the button stays hidden and the navigation stays in the
 * header (a row that scrolls sideways), so it is always reachable.
 *
 * Wide tables scroll sideways inside their .table-wrap; one that does is made a named,
 * focusable region so it can be scrolled from the keyboard too. */
(function () {
  "use strict";
  var header = document.querySelector(".site-header");
  var button = header && header.querySelector(".menu-toggle");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) {
    return;
  }
  function show(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("menu-open", open);
  }
  header.classList.add("menu-js");
  button.hidden = false;
  button.addEventListener("click", function () {
    show(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      show(false);
      button.focus();
    }
  });
})();

(function () {
  "use strict";
  var wraps = Array.prototype.slice.call(document.querySelectorAll(".table-wrap"));
  if (!wraps.length) {
    return;
  }
  function nameOf(wrap) {
    var caption = wrap.querySelector("caption");
    var section = wrap.closest("section, details, .card");
    var heading = section && section.querySelector("h2, h3, summary");
    var text = (caption || heading || {}).textContent || "Table";
    return text.replace(/\s+/g, " ").trim() + " (scrolls sideways)";
  }
  function mark() {
    wraps.forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", nameOf(wrap));
      } else if (wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }
  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(mark, 150);
  });
  document.addEventListener("toggle", mark, true); // a <details> opened shows its tables
  mark();
})();
