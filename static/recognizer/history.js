// The history page: select all, and answers still being read fill in by themselves.
(function () {
  "use strict";
  var form = document.querySelector(".history-form");
  if (!form) return;
  var selectAll = document.getElementById("select-all");
  var boxes = form.querySelectorAll('input[name="ids"]');
  var bulkDelete = document.getElementById("bulk-delete");

  function updateBulk() {
    var checked = form.querySelectorAll('input[name="ids"]:checked').length;
    bulkDelete.disabled = checked === 0;
    selectAll.checked = checked > 0 && checked === boxes.length;
    selectAll.indeterminate = checked > 0 && checked < boxes.length;
  }
  selectAll.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = selectAll.checked; });
    updateBulk();
  });
  boxes.forEach(function (box) { box.addEventListener("change", updateBulk); });
  updateBulk();

  function follow(item, attempts) {
    fetch(item.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (data) {
        var badge = item.querySelector(".status-badge");
        badge.textContent = data.status_label;
        badge.className = "status-badge status-" + data.status;
        var number = item.querySelector('[data-field="digits"]');
        number.textContent = data.number_found ? data.digits : data.no_digit_found ? "–" : data.finished ? "!" : "…";
        number.classList.toggle("history-number-long", data.digits.length > 4 && data.digits.length <= 8);
        number.classList.toggle("history-number-longer", data.digits.length > 8);
        item.querySelector('[data-field="confidence"]').textContent =
          data.confidence_percent ? data.confidence_percent + "%" : "";
        if (!data.finished) window.setTimeout(function () { follow(item, attempts + 1); }, attempts < 60 ? 1500 : 4000);
      })
      .catch(function () {
        window.setTimeout(function () { follow(item, attempts + 1); }, 4000);
      });
  }
  form.querySelectorAll(".history-item[data-status-url]").forEach(function (item) {
    if (item.dataset.statusUrl) follow(item, 0);
  });
})();
