// Console glue. No inline scripts: the CSP forbids them, so every behaviour lives here.

// Send the CSRF token from the meta tag on every htmx request.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.content;
  }
});

// The sidebar is a menu under 1,024 px: one button opens and closes it; Escape closes it.
function setMenu(open) {
  var toggle = document.querySelector("[data-menu-toggle]");
  document.body.classList.toggle("nav-open", open);
  if (toggle) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
}

document.addEventListener("click", function (event) {
  var toggle = event.target.closest("[data-menu-toggle]");
  if (toggle) {
    setMenu(!document.body.classList.contains("nav-open"));
  }
});

document.addEventListener("keydown", function (event) {
  if (event.key === "Escape" && document.body.classList.contains("nav-open")) {
    setMenu(false);
    var toggle = document.querySelector("[data-menu-toggle]");
    if (toggle) {
      toggle.focus();
    }
  }
});

// Theme: auto (follow the system) -> light -> dark -> auto, remembered in localStorage.
var THEMES = ["auto", "light", "dark"];

function currentTheme() {
  return document.documentElement.getAttribute("data-theme") || "auto";
}

function showTheme(button) {
  var theme = currentTheme();
  button.setAttribute("data-theme-current", theme);
  button.textContent = "Theme: " + theme;
}

document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-theme-toggle]");
  if (!button) {
    return;
  }
  var next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
  try {
    if (next === "auto") {
      window.localStorage.removeItem("flowdeck-theme");
    } else {
      window.localStorage.setItem("flowdeck-theme", next);
    }
  } catch (error) {
    // Not remembered, still applied to this page.
  }
  if (next === "auto") {
    document.documentElement.removeAttribute("data-theme");
  } else {
    document.documentElement.setAttribute("data-theme", next);
  }
  showTheme(button);
});

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-theme-toggle]").forEach(showTheme);
});

// Folded rows (<details id=...>) stay open across the polling swaps of a live block, and a link
// to one (the DAG's boxes link to "#step-<id>") opens it.
var openBeforeSwap = [];

document.addEventListener("htmx:beforeSwap", function (event) {
  openBeforeSwap = Array.prototype.map.call(event.detail.target.querySelectorAll("details[id][open]"),
    function (element) { return element.id; });
});

document.addEventListener("htmx:afterSettle", function () {
  openBeforeSwap.forEach(function (id) {
    var element = document.getElementById(id);
    if (element) {
      element.open = true;
    }
  });
  openBeforeSwap = [];
});

function openTarget() {
  if (!window.location.hash) {
    return;
  }
  var element = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
  if (element && element.tagName === "DETAILS") {
    element.open = true;
    element.querySelector("summary").focus();
  }
}

window.addEventListener("hashchange", openTarget);
document.addEventListener("DOMContentLoaded", openTarget);

// A box that scrolls sideways (a wide table, the timeline) must be reachable from the keyboard:
// it gets a tab stop only while its content overflows it.
function markScrollables(root) {
  (root || document).querySelectorAll(".table-wrap, .scroll-x").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute("tabindex", "0");
      if (!box.hasAttribute("aria-label")) {
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", "Scrollable table");
      }
    } else if (box.getAttribute("tabindex") === "0") {
      box.removeAttribute("tabindex");
    }
  });
}

document.addEventListener("DOMContentLoaded", function () { markScrollables(document); });
document.addEventListener("htmx:afterSettle", function (event) { markScrollables(event.detail.elt); });
window.addEventListener("resize", function () { markScrollables(document); });
