// Switches a record between its JSON, text and hex views. Nothing else runs:
// the page's content is static, escaped HTML.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-view]");
  if (button) {
    button.closest(".record").setAttribute("data-view", button.getAttribute("data-view"));
  }
});
document.body.setAttribute("data-ready", "1");
