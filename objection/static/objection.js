// Progressive enhancement only: the objection form works without this file, and the server
// checks the document's size too. When a document over the limit is chosen, say so next to the
// field at once and unselect it, so a file that would be refused is not uploaded for nothing.
document.addEventListener("DOMContentLoaded", function () {
  var inputs = document.querySelectorAll("input[type=file][data-max-bytes][data-size-error]");
  Array.prototype.forEach.call(inputs, function (input) {
    var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
    var message = document.getElementById(input.getAttribute("data-size-error"));
    if (!limit || !message || !input.files) {
      return;
    }
    var describedBy = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    var serverInvalid = input.getAttribute("aria-invalid") === "true";

    function show(tooBig) {
      message.hidden = !tooBig;
      var ids = describedBy.slice();
      if (tooBig) {
        ids.push(message.id);
      }
      if (ids.length) {
        input.setAttribute("aria-describedby", ids.join(" "));
      } else {
        input.removeAttribute("aria-describedby");
      }
      if (tooBig || serverInvalid) {
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
      }
    }

    input.addEventListener("change", function () {
      var file = input.files[0];
      var tooBig = Boolean(file && file.size > limit);
      if (tooBig) {
        input.value = "";
      }
      show(tooBig);
    });
  });
});
