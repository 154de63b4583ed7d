// Review queue: type the number the highlighted prediction shows (digit keys 0-9) and press Enter to save it;
// "Not a digit" (n) for a picture with none, "Skip" (s) to move on without a label; move with arrows or j/k.
// Without this script each row is a plain form that posts and comes back to the queue.
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
      if (!items[index].classList.contains("labelled") && !items[index].classList.contains("skipped")) {
        return items[index];
      }
    }
    return from;
  }

  function field(item) {
    return item.querySelector('input[name="label"]');
  }

  // `number` is the label typed or chosen, or null for "not a digit".
  async function label(item, number) {
    const form = item.querySelector("form");
    const body = new FormData(form); // carries the CSRF token
    if (number === null) {
      body.set("not_a_digit", "1");
    } else {
      body.set("label", number);
    }
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
      item.classList.remove("skipped");
      item.classList.add("labelled");
      result.textContent = saved.not_a_digit
        ? queue.dataset.notADigitText
        : queue.dataset.labelledText + " " + saved.staff_digits;
      field(item).value = "";
      field(item).blur();
      if (item === current) {
        select(nextUnlabelled(item, 1));
      }
    } catch (error) {
      result.textContent = queue.dataset.errorText;
    }
  }

  // Skipping leaves the row unlabelled (it stays in the queue) and moves on to the next one.
  function skip(item) {
    item.classList.add("skipped");
    item.querySelector(".review-result").textContent = queue.dataset.skippedText;
    field(item).value = "";
    field(item).blur();
    select(nextUnlabelled(item, 1));
  }

  queue.addEventListener("submit", function (event) {
    event.preventDefault();
    const item = event.target.closest(".review-item");
    select(item);
    if (event.submitter && event.submitter.name === "not_a_digit") {
      label(item, null);
      return;
    }
    // "As read" carries its number; Enter in the field or "Save" send what was typed.
    const number = event.submitter && event.submitter.value ? event.submitter.value : field(item).value.trim();
    if (number) {
      label(item, number);
    }
  });

  queue.addEventListener("click", function (event) {
    if (event.target.classList.contains("skip")) {
      skip(event.target.closest(".review-item"));
    }
  });

  queue.addEventListener("click", function (event) {
    const item = event.target.closest(".review-item");
    if (item && !["BUTTON", "A", "INPUT"].includes(event.target.tagName)) {
      select(item);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !current) {
      return;
    }
    const typing = event.target.closest && event.target.closest("input, textarea, select");
    if (typing && event.key === "ArrowDown") {
      event.preventDefault();
      select(nextUnlabelled(current, 1));
    } else if (typing && event.key === "ArrowUp") {
      event.preventDefault();
      select(nextUnlabelled(current, -1));
    } else if (typing) {
      return; // the field takes the digits; Enter submits its form
    } else if (/^[0-9]$/.test(event.key)) {
      // A digit starts the number in the highlighted row's field, which then takes the rest.
      event.preventDefault();
      field(current).value += event.key;
      field(current).focus();
    } else if (event.key === "n") {
      event.preventDefault();
      label(current, null);
    } else if (event.key === "s") {
      event.preventDefault();
      skip(current);
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
