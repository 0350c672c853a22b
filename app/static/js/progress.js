// Follows background work (an export, an import): updates the progress bar, reloads the page
// when the work is done.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) {
    return;
  }
  var bar = box.querySelector("progress");
  var status = box.querySelector("[role=status]");
  function poll() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (bar) {
          bar.value = data.progress;
          bar.textContent = data.progress + " %";
        }
        if (status) {
          status.textContent = data.progress + " %";
        }
        if (data.status === "done" || data.status === "failed" || data.busy === false) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
