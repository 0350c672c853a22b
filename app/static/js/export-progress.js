// Follows a background export: updates the progress bar, reloads the page when it is done.
(function () {
  "use strict";
  var box = document.getElementById("export");
  var bar = document.getElementById("export-progress");
  var status = document.getElementById("export-status");
  if (!box || !bar) {
    return;
  }
  function poll() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        bar.value = data.progress;
        bar.textContent = data.progress + " %";
        status.textContent = data.progress + " %";
        if (data.status === "done" || data.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
