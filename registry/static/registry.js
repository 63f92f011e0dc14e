// Progressive enhancement only: the listing works without this file.
// The filters are folded in a <details>, after the results: on a small screen they stay
// folded below the results; on a wide screen, where they sit beside the results, open them.
document.addEventListener("DOMContentLoaded", function () {
  var filters = document.querySelector(".facets details");
  if (filters && window.matchMedia("(min-width: 48.01rem)").matches) {
    filters.open = true;
  }
});
