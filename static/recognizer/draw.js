// The draw page: a canvas for mouse, pen and touch (Pointer Events), with undo and clear.
// The drawing is sent as a PNG file, the same way as an uploaded picture.
(function () {
  "use strict";
  var form = document.querySelector(".draw-form");
  if (!form) return;
  var canvas = document.getElementById("drawing-canvas");
  var frame = canvas.parentElement;
  var context = canvas.getContext("2d");
  var undoButton = document.getElementById("draw-undo");
  var clearButton = document.getElementById("draw-clear");
  var submitButton = document.getElementById("draw-submit");
  var errorBox = document.getElementById("draw-error");
  var text = JSON.parse(document.getElementById("draw-messages").textContent);
  var submitLabel = submitButton.textContent;
  // Thick strokes, like the felt-tip digits the model learned from: a digit is about the canvas' height.
  var LINE_WIDTH = canvas.height / 14;
  var strokes = [];
  var current = null;

  // The canvas keeps its height in drawing units and takes the width its frame has on this screen
  // (wider on a desktop than on a phone), so strokes are never stretched. Turning a phone keeps what
  // was drawn at its size; what falls outside a narrower canvas can be undone.
  function fitToFrame() {
    var box = frame.getBoundingClientRect();
    if (!box.width || !box.height) return;
    var width = Math.round((canvas.height * box.width) / box.height);
    if (width !== canvas.width) {
      canvas.width = width;
      repaint();
    }
  }

  function paintBackground() {
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
  }

  function paintStroke(stroke) {
    var points = stroke.points;
    context.strokeStyle = "#111111";
    context.fillStyle = "#111111";
    context.lineWidth = LINE_WIDTH;
    context.lineCap = "round";
    context.lineJoin = "round";
    if (points.length === 1) {
      context.beginPath();
      context.arc(points[0].x, points[0].y, LINE_WIDTH / 2, 0, Math.PI * 2);
      context.fill();
      return;
    }
    context.beginPath();
    context.moveTo(points[0].x, points[0].y);
    for (var i = 1; i < points.length; i++) context.lineTo(points[i].x, points[i].y);
    context.stroke();
  }

  function repaint() {
    paintBackground();
    strokes.forEach(paintStroke);
    if (current) paintStroke(current);
    var hasInk = strokes.length > 0;
    frame.classList.toggle("has-ink", hasInk || Boolean(current));
    undoButton.disabled = !hasInk;
    clearButton.disabled = !hasInk;
    submitButton.disabled = !hasInk;
  }

  function pointOf(event) {
    var box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * canvas.width,
      y: ((event.clientY - box.top) / box.height) * canvas.height,
    };
  }

  canvas.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 && event.pointerType === "mouse") return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = { pointerId: event.pointerId, points: [pointOf(event)] };
    errorBox.hidden = true;
    repaint();
  });

  canvas.addEventListener("pointermove", function (event) {
    if (!current || current.pointerId !== event.pointerId) return;
    event.preventDefault();
    // Coalesced events keep fast pen and finger strokes smooth.
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    if (!events.length) events = [event];
    events.forEach(function (each) { current.points.push(pointOf(each)); });
    repaint();
  });

  function finishStroke(event) {
    if (!current || current.pointerId !== event.pointerId) return;
    strokes.push(current);
    current = null;
    repaint();
  }
  canvas.addEventListener("pointerup", finishStroke);
  canvas.addEventListener("pointercancel", finishStroke);

  undoButton.addEventListener("click", function () {
    strokes.pop();
    repaint();
  });
  clearButton.addEventListener("click", function () {
    strokes = [];
    repaint();
  });

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    submitButton.disabled = strokes.length === 0;
    submitButton.textContent = submitLabel;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!strokes.length) return;
    submitButton.disabled = true;
    submitButton.textContent = text.sending;
    canvas.toBlob(function (blob) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append(form.dataset.field, blob, "drawing.png");
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
      })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (answer) {
          if (answer.ok && answer.body.url) window.location.assign(answer.body.url);
          else showError(answer.body.error || text.failed);
        })
        .catch(function () { showError(text.failed); });
    }, "image/png");
  });

  fitToFrame();
  window.addEventListener("resize", fitToFrame);
  repaint();
})();
