// Pan and zoom for the server-drawn workflow graphs (webapp/console/dag_svg.py).
// The graph sits at natural size in a focusable scroll container (.dag-view), so scrolling and
// the arrow keys already pan it. This adds a zoom bar, the keys + - 0 1 on the focused graph,
// Ctrl/Cmd+wheel zoom at the pointer and drag to pan. The zoom is kept across htmx swaps of the
// same page (the run page re-renders its graph while the run is live).
(function () {
  "use strict";
  var MIN = 0.05, MAX = 3, STEP = 1.25, READABLE = 0.75;
  var remembered = {};

  function natural(svg) {
    var box = svg.viewBox.baseVal;
    return { width: box.width, height: box.height };
  }

  function fitScale(view, svg) {
    var size = natural(svg);
    if (!view.clientWidth) { return 1; }
    var room = view.clientWidth - 2;
    return Math.min(1, room / size.width, Math.max(view.clientHeight, 240) / size.height);
  }

  function setup(view) {
    if (view.dataset.dagReady) { return; }
    var svg = view.querySelector("svg.dag");
    if (!svg) { return; }
    view.dataset.dagReady = "1";
    // the same graph on the same page (a polled run page) keeps its zoom; another graph starts afresh
    var key = location.pathname + "#" + Array.prototype.indexOf.call(document.querySelectorAll(".dag-view"), view) +
      "@" + svg.getAttribute("viewBox") + "/" + svg.querySelectorAll("g.dag-node").length;
    var bar = document.createElement("div");
    bar.className = "dag-toolbar";
    bar.innerHTML = '<span class="dag-hint">Drag or use the arrow keys to pan; + and − zoom.</span>' +
      '<button type="button" data-zoom="out" aria-label="Zoom out">−</button>' +
      '<output aria-live="polite" aria-label="Zoom level"></output>' +
      '<button type="button" data-zoom="in" aria-label="Zoom in">+</button>' +
      '<button type="button" data-zoom="fit">Fit</button>' +
      '<button type="button" data-zoom="actual">100%</button>';
    view.parentNode.insertBefore(bar, view);
    var output = bar.querySelector("output");
    var scale = 1;

    function apply(next, anchorX, anchorY) {
      next = Math.min(MAX, Math.max(MIN, next));
      var size = natural(svg);
      var x = anchorX === undefined ? view.clientWidth / 2 : anchorX;
      var y = anchorY === undefined ? view.clientHeight / 2 : anchorY;
      var graphX = (view.scrollLeft + x) / scale, graphY = (view.scrollTop + y) / scale;
      scale = next;
      svg.setAttribute("width", String(Math.round(size.width * scale)));
      svg.setAttribute("height", String(Math.round(size.height * scale)));
      view.scrollLeft = graphX * scale - x;
      view.scrollTop = graphY * scale - y;
      output.value = Math.round(scale * 100) + "%";
      remembered[key] = { scale: scale, left: view.scrollLeft, top: view.scrollTop };
    }

    function zoom(action) {
      if (action === "in") { apply(scale * STEP); }
      else if (action === "out") { apply(scale / STEP); }
      else if (action === "fit") { apply(fitScale(view, svg), 0, 0); }
      else if (action === "actual") { apply(1); }
    }

    bar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-zoom]");
      if (button) { zoom(button.dataset.zoom); }
    });
    view.addEventListener("keydown", function (event) {
      if (event.target !== view || event.ctrlKey || event.metaKey || event.altKey) { return; }
      var action = { "+": "in", "=": "in", "-": "out", "_": "out", "0": "fit", "1": "actual" }[event.key];
      if (action) { event.preventDefault(); zoom(action); }
    });
    view.addEventListener("wheel", function (event) {
      if (!event.ctrlKey && !event.metaKey) { return; }
      event.preventDefault();
      var rect = view.getBoundingClientRect();
      apply(scale * (event.deltaY < 0 ? STEP : 1 / STEP), event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });

    var drag = null;
    view.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) { return; }
      drag = { x: event.clientX, y: event.clientY, left: view.scrollLeft, top: view.scrollTop, moved: false, id: event.pointerId };
    });
    view.addEventListener("pointermove", function (event) {
      if (!drag || drag.id !== event.pointerId) { return; }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
      if (!drag.moved) { drag.moved = true; view.setPointerCapture(event.pointerId); view.classList.add("dag-dragging"); }
      view.scrollLeft = drag.left - dx;
      view.scrollTop = drag.top - dy;
    });
    function release(event) {
      if (!drag || drag.id !== event.pointerId) { return; }
      if (drag.moved) {
        view.classList.remove("dag-dragging");
        remembered[key] = { scale: scale, left: view.scrollLeft, top: view.scrollTop };
        // the click that ends a drag must not follow a box's link
        view.addEventListener("click", function (click) { click.preventDefault(); click.stopPropagation(); },
                              { capture: true, once: true });
      }
      drag = null;
    }
    view.addEventListener("pointerup", release);
    view.addEventListener("pointercancel", release);

    function initial(framesLeft) {
      if (!view.clientWidth && framesLeft > 0) {  // not laid out yet (just swapped in by htmx)
        requestAnimationFrame(function () { initial(framesLeft - 1); });
        return;
      }
      var before = remembered[key];
      if (before) {
        apply(before.scale, 0, 0);
        view.scrollLeft = before.left;
        view.scrollTop = before.top;
      } else {  // fit when that stays readable; otherwise readable, and the viewport scrolls
        apply(Math.max(fitScale(view, svg), READABLE), 0, 0);
      }
    }
    initial(10);
  }

  function scan(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".dag-view").forEach(setup);
    if (root.classList && root.classList.contains("dag-view")) { setup(root); }
  }

  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (event) { scan(event.target); });
})();
