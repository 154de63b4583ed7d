// The result page. While the picture is being read it asks the server, which answers as soon as the worker
// has read it (or after 20 s), and fills the answer in without reloading: the number, the boxes over the
// picture, a card per digit and the feedback forms.
// Choosing a digit (its card, its box, or the digit to correct) shows its probabilities.
(function () {
  "use strict";
  var root = document.querySelector(".result[data-status-url]");
  if (!root) return;
  var SVG = "http://www.w3.org/2000/svg";
  var FINISHED = ["done", "failed"];
  var text = JSON.parse(document.getElementById("result-messages").textContent);
  var data = JSON.parse(document.getElementById("result-status").textContent);
  var selected = data.selected_position;
  var polls = 0;
  var WAIT_SECONDS = 20;

  function visible() {
    var count = data.pieces.length;
    return {
      waiting: !data.finished,
      number: data.number_found,
      flagged: data.flagged,
      readable: data.number_found && !data.flagged,
      no_digit: data.no_digit_found,
      failed: data.status === "failed",
      pieces: count > 0,
      several: count > 1,
      single: count === 1,
      boxes: count > 0 && Boolean(data.label_size),
      model_version: Boolean(data.model_version),
      feedback: data.status === "done",
    };
  }

  function element(name, attributes, content) {
    var made = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) { made.setAttribute(key, attributes[key]); });
    if (content !== undefined) made.textContent = content;
    return made;
  }

  function svgElement(name, attributes, content) {
    var made = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { made.setAttribute(key, attributes[key]); });
    if (content !== undefined) made.textContent = content;
    return made;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) { return values[name]; });
  }

  function renderNumber() {
    var number = root.querySelector("[data-number]");
    number.replaceChildren();
    data.pieces.forEach(function (piece) {
      var char = element("span", { class: "number-char" + (piece.flagged ? " number-flagged" : "") }, piece.text);
      if (piece.flagged) char.title = text.could_not_be_read;
      number.appendChild(char);
    });
  }

  function renderOverlay() {
    var picture = root.querySelector(".original-picture");
    var overlay = root.querySelector(".box-overlay");
    overlay.replaceChildren();
    if (!data.label_size) {
      overlay.setAttribute("hidden", "");
      return;
    }
    picture.setAttribute("width", data.image_width);
    picture.setAttribute("height", data.image_height);
    overlay.setAttribute("viewBox", "0 0 " + data.image_width + " " + data.image_height);
    overlay.style.setProperty("--label-size", data.label_size + "px");
    overlay.removeAttribute("hidden");  // an SVG element has no `hidden` property
    data.pieces.forEach(function (piece) {
      if (!piece.outline) return;
      var box = piece.outline;
      var group = svgElement("g", {
        class: "digit-box" + (piece.flagged ? " digit-box-flagged" : ""),
        "data-position": piece.position,
      });
      group.appendChild(svgElement("rect", {
        x: box.x, y: box.y, width: box.width, height: box.height, "vector-effect": "non-scaling-stroke",
      }));
      group.appendChild(svgElement("text", {
        x: box.label_x, y: box.label_y, "text-anchor": "middle", "font-size": data.label_size,
      }, piece.text));
      overlay.appendChild(group);
    });
  }

  function renderPieces() {
    var list = root.querySelector("[data-pieces]");
    list.replaceChildren();
    list.style.setProperty("--strip", data.model_input_url ? "url('" + data.model_input_url + "')" : "none");
    list.style.setProperty("--count", data.pieces.length);
    data.pieces.forEach(function (piece) {
      var button = element("button", {
        type: "button",
        class: "piece" + (piece.flagged ? " piece-flagged" : ""),
        "data-position": piece.position,
        "aria-pressed": "false",
      });
      button.appendChild(element("span", { class: "piece-text" }, piece.text));
      var input = element("span", { class: "piece-input", role: "img", "aria-label": text.model_saw });
      input.style.setProperty("--index", piece.position);
      button.appendChild(input);
      button.appendChild(element("span", { class: "piece-confidence" },
        piece.flagged ? text.not_read : piece.confidence_percent + "%"));
      var item = element("li");
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function renderPositions() {
    var picker = root.querySelector("[data-positions]");
    picker.querySelectorAll("label").forEach(function (label) { label.remove(); });
    data.pieces.forEach(function (piece) {
      var label = element("label", { class: "position-choice" + (piece.flagged ? " position-flagged" : "") });
      var radio = element("input", { type: "radio", name: "position", value: piece.position });
      if (piece.position === data.correct_position) radio.checked = true;
      label.appendChild(radio);
      label.appendChild(element("span", {}, piece.text));
      label.appendChild(element("span", { class: "visually-hidden" }, fill(text.place, { place: piece.position + 1 })));
      picker.appendChild(label);
    });
  }

  // The digit picker offers, for the digit chosen, every value but the one the model read there (that
  // would be "yes, it is right"); the value the user corrected it to shows pressed, and only there.
  function offerCorrections(position) {
    var piece = data.pieces[position];
    var corrected = data.corrected_position === position ? data.true_digits.charAt(position) : "";
    root.querySelectorAll(".digit-choice").forEach(function (button) {
      button.hidden = Boolean(piece) && button.value === piece.text;
      button.setAttribute("aria-pressed", String(button.value === corrected));
    });
  }

  // One digit chosen: its card pressed, its box drawn stronger, its probabilities in the bars.
  function select(position) {
    var piece = data.pieces[position];
    if (!piece) return;
    selected = position;
    root.querySelectorAll(".piece").forEach(function (button) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.position) === position));
    });
    root.querySelectorAll(".digit-box").forEach(function (box) {
      box.classList.toggle("digit-box-chosen", Number(box.dataset.position) === position);
    });
    root.querySelectorAll('[name="position"]').forEach(function (radio) {
      radio.checked = Number(radio.value) === position;
    });
    offerCorrections(position);
    var place = root.querySelector("[data-bars-place]");
    place.textContent = fill(text.place_of, { place: position + 1, total: data.pieces.length });
    root.querySelectorAll(".probability-row").forEach(function (row) {
      var digit = parseInt(row.dataset.digit, 10);
      var share = piece.probability_percents[digit] || "";
      row.querySelector(".probability-bar").style.width = (share || "0") + "%";
      row.querySelector(".probability-percent").textContent = share;
      row.classList.toggle("probability-row-chosen", String(digit) === piece.text);
    });
  }

  function show(fresh) {
    var wasFinished = data.finished;
    data = fresh;
    var shown = visible();
    root.dataset.status = data.status;
    root.querySelectorAll("[data-show-when]").forEach(function (shownWhen) {
      shownWhen.hidden = !shown[shownWhen.dataset.showWhen];
    });
    root.querySelectorAll("[data-field]").forEach(function (field) {
      var value = data[field.dataset.field];
      field.textContent = value === null || value === undefined ? "" : value;
    });
    root.querySelectorAll("[data-field-value]").forEach(function (field) {
      var value = data[field.dataset.fieldValue];
      field.value = value === null ? "" : value;
    });
    root.querySelector(".status-badge").className = "status-badge status-" + data.status;
    if (data.finished && !wasFinished) {
      renderNumber();
      renderOverlay();
      renderPieces();
      renderPositions();
      // A number with a piece not read opens the ways to correct it; "no digit found" may be right as it is.
      root.querySelector(".feedback-no").open = shown.flagged;
      if (data.selected_position !== null) select(data.selected_position);
      if (data.correct_position !== null) offerCorrections(data.correct_position);
      // The title says what was read: "4067 · meter.jpg · digitsite".
      document.title = data.title + " " + document.title.slice(document.title.lastIndexOf("·"));
    }
  }

  root.addEventListener("click", function (event) {
    var chosen = event.target.closest(".piece, .digit-box");
    if (chosen) select(Number(chosen.dataset.position));
  });
  root.addEventListener("change", function (event) {
    if (event.target.name === "position") select(Number(event.target.value));
  });

  function poll() {
    polls += 1;
    var asked = Date.now();
    // The server holds the question until the worker says the answer is saved (at most WAIT_SECONDS).
    var url = root.dataset.statusUrl + "?wait=" + WAIT_SECONDS;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (fresh) {
        show(fresh);
        // An answer that came back at once, still waiting, means the server could not hold it (too many
        // waiting, or no queue to hear from): ask again a little later instead of at once.
        if (!fresh.finished) schedule(Date.now() - asked > 1000 ? 1 : 0);
      })
      .catch(function () { schedule(3000); });
  }

  function schedule(delay) {
    // A second apart at first; a picture still waiting after a minute is asked about less often.
    window.setTimeout(poll, delay || (polls < 60 ? 1000 : 3000));
  }

  if (FINISHED.indexOf(root.dataset.status) === -1) schedule();
})();
