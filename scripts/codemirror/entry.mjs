// The pieces of CodeMirror 6 the workflow editor uses, bundled into one IIFE that sets
// window.FlowdeckCodeMirror (see scripts/vendor_codemirror.sh).
export { basicSetup } from "codemirror";
export { EditorView, keymap } from "@codemirror/view";
export { EditorState, Compartment } from "@codemirror/state";
export { json } from "@codemirror/lang-json";
export { yaml } from "@codemirror/lang-yaml";
export { lintGutter, setDiagnostics } from "@codemirror/lint";
export { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
export { tags } from "@lezer/highlight";
