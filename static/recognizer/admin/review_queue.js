// Review queue: label the highlighted prediction with a digit key (0-9), move with arrows or j/k.
// Without this script every digit button is a plain form that posts and comes back to the queue.
(function () {
  "use strict";
  const queue = document.querySelector(".review-queue");
  if (!queue || queue.dataset.canLabel !== "true") {
    return;
  }
  const items = Array.from(queue.querySelectorAll(".review-item"));
  let current = items[0] || null;

  function select(item) {
    items.forEach(function (other) { other.classList.toggle("current", other === item); });
    current = item;
    if (item) {
      item.focus({ preventScroll: true });
      item.scrollIntoView({ block: "nearest" });
    }
  }

  function nextUnlabelled(from, step) {
    let index = items.indexOf(from);
    for (let tries = 0; tries < items.length; tries += 1) {
      index += step;
      if (index < 0 || index >= items.length) {
        return from;
      }
      if (!items[index].classList.contains("labelled")) {
        return items[index];
      }
    }
    return from;
  }

  async function label(item, digit) {
    const form = item.querySelector("form");
    const body = new FormData(form); // carries the CSRF token
    body.set("label", digit);
    const result = item.querySelector(".review-result");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      const saved = await response.json();
      item.classList.add("labelled");
      result.textContent = queue.dataset.labelledText + " " + saved.staff_label;
      if (item === current) {
        select(nextUnlabelled(item, 1));
      }
    } catch (error) {
      result.textContent = queue.dataset.errorText;
    }
  }

  queue.addEventListener("submit", function (event) {
    event.preventDefault();
    const item = event.target.closest(".review-item");
    if (event.submitter && event.submitter.value) {
      select(item);
      label(item, event.submitter.value);
    }
  });

  queue.addEventListener("click", function (event) {
    const item = event.target.closest(".review-item");
    if (item && event.target.tagName !== "BUTTON" && event.target.tagName !== "A") {
      select(item);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !current) {
      return;
    }
    if (event.target.closest && event.target.closest("input, textarea, select")) {
      return;
    }
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      label(current, event.key);
    } else if (event.key === "ArrowDown" || event.key === "j") {
      event.preventDefault();
      select(nextUnlabelled(current, 1));
    } else if (event.key === "ArrowUp" || event.key === "k") {
      event.preventDefault();
      select(nextUnlabelled(current, -1));
    }
  });

  select(current);
})();
