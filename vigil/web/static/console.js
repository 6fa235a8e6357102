// Vigil console: keyboard shortcuts and click-to-reveal. Served from /console/static/ (the
// Content-Security-Policy allows no inline script); nothing here reads or inserts page content.
(function () {
  "use strict";

  function typing(element) {
    if (!element) {
      return false;
    }
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable) {
      return true;
    }
    return tag === "INPUT" && element.type !== "checkbox" && element.type !== "radio";
  }

  // The element a key acts on: the one in the page's main part first, then the header's.
  function target(key) {
    var selector = '[data-key="' + (window.CSS && CSS.escape ? CSS.escape(key) : key) + '"]';
    return document.querySelector("main " + selector) || document.querySelector(selector);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || event.isComposing) {
      return;
    }
    if (typing(document.activeElement)) {
      if (event.key === "Escape") {
        document.activeElement.blur();
      }
      return;
    }
    var element = target(event.key);
    if (!element) {
      return;
    }
    event.preventDefault();
    element.click();
  });

  function toggle(button) {
    var preview = button.closest(".preview");
    if (!preview) {
      return;
    }
    var hidden;
    if (preview.classList.contains("blurred")) {
      hidden = !preview.classList.toggle("revealed");
    } else {
      hidden = preview.classList.toggle("revealed-off");
    }
    button.setAttribute("aria-pressed", hidden ? "false" : "true");
    button.firstChild.textContent = hidden ? "Reveal " : "Blur ";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-reveal]");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].addEventListener("click", function (event) {
        toggle(event.currentTarget);
      });
    }
    // says that the shortcuts are live (tests and assistive tools wait for it)
    document.documentElement.setAttribute("data-shortcuts", "on");
  });
})();
