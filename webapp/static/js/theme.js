// Applies the remembered theme before the first paint (loaded without defer in <head>).
// No saved choice means "auto": html has no data-theme and the CSS follows prefers-color-scheme.
(function () {
  try {
    var saved = window.localStorage.getItem("flowdeck-theme");
    if (saved === "light" || saved === "dark") {
      document.documentElement.setAttribute("data-theme", saved);
    }
  } catch (error) {
    // Storage refused (private mode): the system preference still applies.
  }
})();
