// The workflow editor: CodeMirror 6 over the plain textarea, errors marked on their lines.
//
// The page works without this file and without the vendored CodeMirror bundle: the textarea
// posts to /workflows/validate through htmx on every pause in typing, and the server answers
// with the validation block, each problem carrying data-line. Here, when window.FlowdeckCodeMirror
// loaded, the textarea is replaced by an editor (line numbers, JSON or YAML highlighting picked
// from the text, lint marks from those data-line attributes) that writes back into the textarea,
// so the form, htmx and the save keep one source. Whether CodeMirror is there or not, this file
// also (1) shows an error when a check fails (a 413 for a draft over the body limit, a network
// error) instead of leaving the last "Valid" on screen, (2) refuses to submit a draft over the
// definition limit, which would lose the text on an error page, and (3) makes "line N" jump there.
(function () {
  "use strict";

  function start() {
    var textarea = document.getElementById("definition");
    if (!textarea || textarea.dataset.editorReady) { return; }
    textarea.dataset.editorReady = "1";
    var form = textarea.form;
    var maxBytes = Number(form.dataset.maxBytes) || Infinity;
    var view = null;
    var CM = window.FlowdeckCodeMirror;

    function text() { return view ? view.state.doc.toString() : textarea.value; }
    function bytes(value) { return new TextEncoder().encode(value).length; }

    if (CM) {
      try { view = mount(CM, textarea, form); } catch (error) { view = null; textarea.classList.remove("cm-replaced"); }
    }

    function markLines() {
      if (!view) { return; }
      var doc = view.state.doc;
      var diagnostics = [];
      document.querySelectorAll("#validation [data-line][data-message]").forEach(function (item) {
        var line = doc.line(Math.min(Math.max(Number(item.dataset.line) || 1, 1), doc.lines));
        diagnostics.push({ from: line.from, to: line.to, severity: "error", message: item.dataset.message });
      });
      view.dispatch(CM.setDiagnostics(view.state, diagnostics));
    }

    function showFailure(title, message) {
      var section = document.getElementById("validation");
      if (!section) { return; }
      section.classList.remove("checking");
      section.replaceChildren();
      var badge = document.createElement("p");
      badge.className = "badge status-failed";
      badge.dataset.testid = "invalid";
      badge.textContent = title;
      var detail = document.createElement("p");
      detail.className = "flash flash-error";
      detail.setAttribute("role", "alert");
      detail.dataset.testid = "check-failed";
      detail.textContent = message;
      section.append(badge, detail);
      markLines();
    }

    function tooLargeMessage(size) {
      return "The draft is " + size.toLocaleString("en") + " bytes; a definition may be at most " +
        maxBytes.toLocaleString("en") + " bytes. Shorten it before saving.";
    }

    function goToLine(number) {
      if (view) {
        var line = view.state.doc.line(Math.min(Math.max(number, 1), view.state.doc.lines));
        view.dispatch({ selection: { anchor: line.from, head: line.to }, scrollIntoView: true });
        view.focus();
      } else {
        var lines = textarea.value.split("\n");
        var offset = lines.slice(0, number - 1).join("\n").length + (number > 1 ? 1 : 0);
        textarea.focus();
        textarea.setSelectionRange(offset, offset + (lines[number - 1] || "").length);
      }
    }

    function fromEditor(event) {
      var detail = event.detail || {};
      return detail.elt === textarea || Boolean(detail.requestConfig && detail.requestConfig.elt === textarea);
    }

    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (!fromEditor(event)) { return; }
      var section = document.getElementById("validation");
      if (section) { section.classList.add("checking"); }
    });
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      if (!fromEditor(event) || event.detail.xhr.status < 400) { return; }
      event.detail.shouldSwap = false;
      var status = event.detail.xhr.status;
      showFailure("Not checked", status === 413 ? tooLargeMessage(bytes(text()))
        : "The check failed (HTTP " + status + "); the draft was not checked. Try again, or reload the page.");
    });
    document.body.addEventListener("htmx:sendError", function (event) {
      if (!fromEditor(event)) { return; }
      showFailure("Not checked", "The server could not be reached; the draft was not checked.");
    });
    document.body.addEventListener("htmx:load", function (event) {  // the new validation block is in
      if (event.target.id === "validation") { markLines(); }
    });
    form.addEventListener("submit", function (event) {
      var size = bytes(text());
      if (size > maxBytes) {
        event.preventDefault();
        showFailure("Not saved", tooLargeMessage(size));
      }
    });
    document.addEventListener("click", function (event) {
      var button = event.target.closest("#validation .goto-line");
      if (button) { goToLine(Number(button.dataset.line)); }
    });
    markLines();
  }

  // Keep CodeMirror inside the page's CSP (style-src 'self': no <style> elements, no style
  // attributes). CodeMirror writes its styles through style-mod, which uses a constructed
  // stylesheet (adoptedStyleSheets, which the CSP does not police) only inside a shadow root,
  // so the editor is mounted in one. Its few style *attributes* (tab-size on the content) are
  // applied through the CSSOM instead, which the CSP allows; only inside the editor.
  function styleAttributesThroughCssom() {
    var setAttribute = Element.prototype.setAttribute;
    Element.prototype.setAttribute = function (name, value) {
      if (name === "style" && this.closest && this.closest(".cm-editor")) {
        this.style.cssText = value;
        return;
      }
      setAttribute.call(this, name, value);
    };
  }

  function theme(CM) {
    return CM.EditorView.theme({
      "&": { height: "min(70vh, 40rem)", fontSize: "var(--fd-text-data, 13px)", color: "var(--fd-text, #1f2328)",
             backgroundColor: "var(--fd-surface, #fff)", border: "1px solid var(--fd-border, #dde1e6)",
             borderRadius: "var(--fd-radius, 6px)" },
      "&.cm-focused": { outline: "2px solid var(--fd-focus, #0b62c4)", outlineOffset: "1px" },
      ".cm-scroller": { fontFamily: "var(--fd-mono, ui-monospace, monospace)", lineHeight: "1.5" },
      ".cm-gutters": { backgroundColor: "var(--fd-surface-2, #f0f2f5)", color: "var(--fd-muted, #5b6470)",
                       borderRight: "1px solid var(--fd-border, #dde1e6)" },
      ".cm-activeLine, .cm-activeLineGutter": { backgroundColor: "color-mix(in srgb, var(--fd-accent, #0b62c4) 7%, transparent)" },
      ".cm-cursor": { borderLeftColor: "var(--fd-text, #1f2328)" },
      "&.cm-focused .cm-selectionBackground, .cm-selectionBackground": { backgroundColor: "var(--fd-accent-bg, #cfe0f7)" },
      ".cm-lintRange-error": { backgroundImage: "none", textDecoration: "underline wavy var(--fd-bad, #c0272d)",
                               textUnderlineOffset: "3px" },
      ".cm-tooltip": { backgroundColor: "var(--fd-surface, #fff)", color: "var(--fd-text, #1f2328)",
                       border: "1px solid var(--fd-border, #dde1e6)" },
    });
  }

  // Token colours from the console's tokens, which switch with light and dark mode
  // (CodeMirror's default palette is made for a light background only).
  function highlighting(CM) {
    var t = CM.tags;
    return CM.syntaxHighlighting(CM.HighlightStyle.define([
      { tag: [t.propertyName, t.definition(t.propertyName)], color: "var(--fd-accent, #0b62c4)" },
      { tag: [t.string, t.special(t.string), t.content], color: "var(--fd-ok, #1a7f37)" },
      { tag: [t.number, t.bool, t.null, t.atom], color: "var(--fd-warn, #8a5300)" },
      { tag: [t.keyword, t.typeName, t.tagName, t.labelName], color: "var(--fd-info, #0b62c4)" },
      { tag: [t.comment, t.lineComment, t.meta], color: "var(--fd-muted, #5b6470)", fontStyle: "italic" },
      { tag: [t.punctuation, t.separator, t.bracket, t.squareBracket, t.brace], color: "var(--fd-muted, #5b6470)" },
      { tag: t.invalid, color: "var(--fd-bad, #c0272d)" },
    ]));
  }

  function mount(CM, textarea, form) {
    var language = new CM.Compartment();
    var isJson = function (value) { return /^\s*[[{]/.test(value); };
    var currentJson = isJson(textarea.value);
    var extensions = [
      CM.basicSetup,
      theme(CM),
      highlighting(CM),
      language.of(currentJson ? CM.json() : CM.yaml()),
      CM.lintGutter(),
      CM.keymap.of([{ key: "Mod-s", preventDefault: true, run: function () { form.requestSubmit(); return true; } }]),
      CM.EditorView.contentAttributes.of({ "aria-label": "Definition, JSON or YAML", "data-testid": "definition-editor" }),
      CM.EditorView.updateListener.of(function (update) {
        if (!update.docChanged) { return; }
        var value = update.state.doc.toString();
        textarea.value = value;
        if (isJson(value) !== currentJson) {
          currentJson = !currentJson;
          update.view.dispatch({ effects: language.reconfigure(currentJson ? CM.json() : CM.yaml()) });
        }
        textarea.dispatchEvent(new Event("definition-changed"));
      }),
    ];
    styleAttributesThroughCssom();
    var host = document.createElement("div");
    host.className = "code-editor";
    textarea.insertAdjacentElement("afterend", host);
    var shadow = host.attachShadow({ mode: "open" });
    var view;
    try {
      view = new CM.EditorView({ root: shadow, parent: shadow,
                                 state: CM.EditorState.create({ doc: textarea.value, extensions: extensions }) });
    } catch (error) {
      host.remove();
      throw error;
    }
    textarea.classList.add("cm-replaced");
    var label = form.querySelector('label[for="definition"]');
    if (label) { label.addEventListener("click", function (event) { event.preventDefault(); view.focus(); }); }
    return view;
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
