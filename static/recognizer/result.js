// The result page asks the server every second while the picture is being read, and fills the answer in
// without reloading the page.
(function () {
  "use strict";
  var root = document.querySelector(".result[data-status-url]");
  if (!root) return;
  var FINISHED = ["done", "failed"];
  var polls = 0;

  function visible(data) {
    return {
      waiting: !data.finished,
      digit: data.digit !== null,
      no_digit: data.no_digit_found,
      failed: data.status === "failed",
      probabilities: data.probabilities.length === 10,
      model_input: Boolean(data.model_input_url),
      model_version: Boolean(data.model_version),
      feedback: data.status === "done",
    };
  }

  function show(data) {
    var shown = visible(data);
    root.dataset.status = data.status;
    root.querySelectorAll("[data-show-when]").forEach(function (element) {
      element.hidden = !shown[element.dataset.showWhen];
    });
    root.querySelectorAll("[data-field]").forEach(function (element) {
      var value = data[element.dataset.field];
      element.textContent = value === null || value === undefined ? "" : value;
    });
    root.querySelectorAll("[data-field-src]").forEach(function (element) {
      var url = data[element.dataset.fieldSrc];
      if (url && element.getAttribute("src") !== url) element.setAttribute("src", url);
    });
    root.querySelectorAll("[data-field-value]").forEach(function (element) {
      var value = data[element.dataset.fieldValue];
      element.value = value === null ? "" : value;
    });
    var badge = root.querySelector(".status-badge");
    badge.className = "status-badge status-" + data.status;
    root.querySelectorAll(".probability-row").forEach(function (row) {
      var digit = parseInt(row.dataset.digit, 10);
      var share = data.probability_percents[digit] || "";
      row.querySelector(".probability-bar").style.width = (share || "0") + "%";
      row.querySelector(".probability-percent").textContent = share;
      row.classList.toggle("probability-row-chosen", digit === data.digit);
    });
  }

  function poll() {
    polls += 1;
    fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (!data.finished) schedule();
      })
      .catch(function () { schedule(3000); });
  }

  function schedule(delay) {
    // Every second at first; a picture still waiting after a minute is checked less often.
    window.setTimeout(poll, delay || (polls < 60 ? 1000 : 3000));
  }

  if (FINISHED.indexOf(root.dataset.status) === -1) schedule();
})();
