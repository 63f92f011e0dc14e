// Progressive enhancement only: every page works without this file.
// When a form comes back with errors, move focus to the error summary so screen-reader and
// keyboard users hear the problems first (GOV.UK error-summary pattern).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
});
