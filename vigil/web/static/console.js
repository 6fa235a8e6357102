// Vigil console: keyboard shortcuts, click-to-reveal and the orders' countdown. Served from
// /console/static/ (the Content-Security-Policy allows no inline script); nothing here reads page
// content or inserts markup: the countdown writes its own figures as text.
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

  // The time left to an order's deadline, worded as the server words it (vigil/web/render.py).
  function duration(seconds) {
    seconds = Math.abs(seconds);
    if (seconds < 60) {
      return Math.floor(seconds) + " s";
    }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
      return minutes + " min";
    }
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 48) {
      return hours + " h " + (minutes < 10 ? "0" : "") + minutes + " min";
    }
    return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
  }

  // Counts down every [data-seconds-left] from the server's figure (the browser's own clock may be
  // wrong; only the time elapsed since the page arrived is taken from it). Without this script the
  // server-rendered text stands, correct as of the page's rendering.
  function countdown() {
    var clocks = document.querySelectorAll("[data-seconds-left]");
    if (clocks.length === 0) {
      return;
    }
    var started = Date.now();
    function tick() {
      var elapsed = Math.floor((Date.now() - started) / 1000);
      for (var i = 0; i < clocks.length; i += 1) {
        var left = parseInt(clocks[i].getAttribute("data-seconds-left"), 10) - elapsed;
        if (isNaN(left)) {
          continue;
        }
        clocks[i].textContent = left < 0 ? "overdue by " + duration(left) : duration(left) + " left";
        clocks[i].classList.toggle("overdue", left < 0);
      }
    }
    tick();
    window.setInterval(tick, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    countdown();
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
