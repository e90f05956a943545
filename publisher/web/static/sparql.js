// The query page works without this file: example links load a page with the
// query, the form submits by GET. With it: examples fill the editor in place,
// Ctrl+Enter (or Cmd+Enter) runs the query, and the button says it is running.
(function () {
  "use strict";
  var form = document.querySelector("form.sparql");
  var editor = document.getElementById("query");
  var hint = document.getElementById("hint");
  if (!form || !editor) { return; }
  document.querySelectorAll("[data-query]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      editor.value = link.getAttribute("data-query");
      editor.focus();
      if (hint) { hint.textContent = "Loaded “" + link.textContent + "”. Ctrl+Enter runs it."; }
    });
  });
  editor.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });
  form.addEventListener("submit", function () {
    var button = form.querySelector("button");
    if (button) { button.textContent = "Running…"; button.setAttribute("aria-busy", "true"); }
  });
  // Back to a page that was submitted: the button is ready again.
  window.addEventListener("pageshow", function () {
    var button = form.querySelector("button");
    if (button) { button.textContent = "Run query"; button.removeAttribute("aria-busy"); }
  });
  if (hint) { hint.textContent = "Ctrl+Enter runs the query."; }
}());
