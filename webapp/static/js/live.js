// Live pages over Server-Sent Events (htmx-ext-sse). An element with [sse-connect] holds one
// EventSource; elements inside it refresh on stream events (hx-trigger="sse:run, sse:step").
// Elements marked [data-live-fallback] also poll ("every Ns"), but only while their stream is
// down or silent (no dispatcher running): a poll is cancelled while the stream is open, so
// polling is the fallback, not the rule.
(function () {
  function streamOf(element) {
    return element && element.closest ? element.closest("[sse-connect]") : null;
  }

  function mark(state) {
    return function (event) {
      if (event.target && event.target.setAttribute) {
        event.target.setAttribute("data-stream", state);
      }
    };
  }

  // Connected is not enough: the stream also says whether a dispatcher is running
  // ("event: bus"); only then is it "open" and the fallback poll stands down.
  document.addEventListener("htmx:sseOpen", function (event) {
    mark("connected")(event);
    var stream = event.target;
    var source = event.detail && event.detail.source;
    if (source && !source.flowdeckBus) {
      source.flowdeckBus = true;
      source.addEventListener("bus", function (message) {
        var state = JSON.parse(message.data);
        stream.setAttribute("data-stream", state.dispatching ? "open" : "silent");
      });
    }
  });
  document.addEventListener("htmx:sseError", mark("down"));
  document.addEventListener("htmx:sseClose", mark("down"));

  function fromStream(event) {
    var trigger = event.detail.triggeringEvent;
    return Boolean(trigger && trigger.type && trigger.type.indexOf("sse:") === 0);
  }

  document.addEventListener("htmx:confirm", function (event) {
    var element = event.detail.elt;
    if (!element.hasAttribute || !element.hasAttribute("data-live-fallback") || fromStream(event)) {
      return;
    }
    var stream = streamOf(element);
    if (stream && stream.getAttribute("data-stream") === "open") {
      event.preventDefault();
    }
  });

  // Resume without gaps. A page's stream URL starts at the newest event the page reflects
  // (?last_event_id=, see event_stream_url). The browser sends Last-Event-ID when it reconnects
  // an EventSource by itself, but htmx-ext-sse opens a new EventSource after a failed
  // connection, which starts blank; so the last id seen on each stream replaces the one in the
  // URL of the new EventSource.
  var lastIds = {};

  document.addEventListener("htmx:sseMessage", function (event) {
    var stream = streamOf(event.target);
    if (stream && event.detail && event.detail.lastEventId) {
      lastIds[stream.getAttribute("sse-connect")] = event.detail.lastEventId;
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) {
      return;
    }
    window.htmx.createEventSource = function (url) {
      var last = lastIds[url];
      var resumed = new URL(url, window.location.href);
      if (last) {
        resumed.searchParams.set("last_event_id", last);
      }
      return new EventSource(resumed.toString(), { withCredentials: true });
    };
  });

  // A refresh caused by the stream names the event that caused it (?live=<event id>), which
  // keeps it apart from the fallback poll in logs, caches and tests.
  document.addEventListener("htmx:configRequest", function (event) {
    if (fromStream(event)) {
      var message = event.detail.triggeringEvent.detail;
      event.detail.parameters.live = (message && message.lastEventId) || "1";
    }
  });
})();
