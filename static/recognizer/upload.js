// The upload page: choose or drop pictures, see them before sending, and hear about the limits early.
// The server checks everything again; this only saves a wasted upload.
(function () {
  "use strict";
  var form = document.querySelector(".upload-form");
  if (!form) return;
  var input = form.querySelector('input[type="file"]');
  var dropZone = form.querySelector(".drop-zone");
  var previews = form.querySelector(".preview-grid");
  var summary = form.querySelector(".preview-summary");
  var clientError = form.querySelector(".client-error");
  var submit = form.querySelector("#upload-submit");
  var clear = form.querySelector("#upload-clear");
  var text = JSON.parse(document.getElementById("upload-messages").textContent);
  var maxFiles = parseInt(form.dataset.maxFiles, 10);
  var maxBytes = parseInt(form.dataset.maxBytes, 10);
  var accepted = ["image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif", "image/x-ms-bmp"];
  // Without DataTransfer the browser's own file list is used as it is: no adding up, no removing.
  var canEditList = (function () {
    try { return Boolean(new DataTransfer().items); } catch (error) { return false; }
  })();
  var chosen = [];
  var objectUrls = [];
  // Files the server refused, with its reason: marked, and the rest stay chosen to send again.
  var refusedByServer = typeof Map === "function" ? new Map() : null;
  var serverMessage = "";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

  function readableSize(bytes) {
    return bytes < 1048576 ? Math.max(1, Math.round(bytes / 1024)) + " KB" : (bytes / 1048576).toFixed(1) + " MB";
  }

  function syncInput() {
    if (!canEditList) return;
    var transfer = new DataTransfer();
    chosen.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
  }

  function problemsOf(file) {
    if (refusedByServer && refusedByServer.has(file)) return refusedByServer.get(file);
    if (file.size > maxBytes) return fill(text.too_large, { name: file.name });
    if (file.type && accepted.indexOf(file.type) === -1) return fill(text.not_image, { name: file.name });
    return "";
  }

  function render() {
    objectUrls.forEach(URL.revokeObjectURL);
    objectUrls = [];
    previews.textContent = "";
    var problems = [];
    var totalBytes = 0;
    chosen.forEach(function (file, index) {
      totalBytes += file.size;
      var problem = problemsOf(file);
      if (problem) problems.push(problem);
      var item = document.createElement("li");
      item.className = "preview-item" + (problem ? " is-invalid" : "");
      if (!problem) {
        var image = document.createElement("img");
        var url = URL.createObjectURL(file);
        objectUrls.push(url);
        image.src = url;
        image.alt = "";
        item.appendChild(image);
      }
      if (problem) {
        var why = document.createElement("span");
        why.className = "preview-problem";
        why.textContent = problem;
        item.appendChild(why);
      }
      var name = document.createElement("span");
      name.className = "preview-name";
      name.textContent = file.name;
      name.title = file.name;
      item.appendChild(name);
      if (canEditList) {
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "preview-remove";
        remove.textContent = "×";
        remove.setAttribute("aria-label", text.remove + ": " + file.name);
        remove.addEventListener("click", function () {
          if (refusedByServer) refusedByServer.delete(file);
          chosen.splice(index, 1);
          syncInput();
          render();
        });
        item.appendChild(remove);
      }
      previews.appendChild(item);
    });
    if (chosen.length > maxFiles) problems.unshift(fill(text.too_many, { count: chosen.length }));
    if (problems.length && serverMessage) problems.unshift(serverMessage);
    clientError.textContent = problems.join(" ");
    clientError.hidden = problems.length === 0;
    summary.hidden = chosen.length === 0;
    summary.textContent = fill(text.summary, { count: chosen.length, size: readableSize(totalBytes) });
    submit.disabled = chosen.length === 0 || problems.length > 0;
    clear.hidden = chosen.length === 0;
  }

  function add(files) {
    var list = Array.prototype.slice.call(files);
    chosen = canEditList ? chosen.concat(list) : list;
    syncInput();
    render();
  }

  input.addEventListener("change", function () {
    // The input now holds only the new choice; keep the earlier ones too.
    var fresh = Array.prototype.slice.call(input.files);
    if (canEditList) {
      chosen = chosen.concat(fresh);
      syncInput();
      render();
    } else {
      add(fresh);
    }
  });

  ["dragenter", "dragover"].forEach(function (name) {
    dropZone.addEventListener(name, function (event) {
      event.preventDefault();
      dropZone.classList.add("is-dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropZone.addEventListener(name, function () { dropZone.classList.remove("is-dragging"); });
  });
  dropZone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
  });
  // A picture dropped next to the zone must not make the browser leave the page to show it.
  ["dragover", "drop"].forEach(function (name) {
    document.addEventListener(name, function (event) { event.preventDefault(); });
  });

  clear.addEventListener("click", function () {
    chosen = [];
    serverMessage = "";
    if (refusedByServer) refusedByServer.clear();
    input.value = "";
    syncInput();
    render();
  });

  function sendingDone() {
    submit.textContent = submitLabel;
    render();
  }

  var submitLabel = submit.textContent;
  form.addEventListener("submit", function (event) {
    if (submit.disabled) {
      event.preventDefault();
      return;
    }
    submit.disabled = true;
    submit.textContent = text.sending;
    // Without an editable file list (old browsers) the form is sent as it is, and a refusal comes back as a page.
    if (!canEditList || !refusedByServer || !window.fetch) return;
    event.preventDefault();
    var sent = chosen.slice();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
      })
      .then(function (result) {
        if (result.ok && result.answer.url) {
          window.location.assign(result.answer.url);
          return;
        }
        (result.answer.files || []).forEach(function (refused) {
          if (sent[refused.index]) refusedByServer.set(sent[refused.index], refused.error);
        });
        serverMessage = (result.answer.files || []).length ? text.refused : result.answer.error || text.failed;
        sendingDone();
        if (!(result.answer.files || []).length) {
          clientError.textContent = serverMessage;
          clientError.hidden = false;
        }
      })
      .catch(function () {
        serverMessage = "";
        sendingDone();
        clientError.textContent = text.failed;
        clientError.hidden = false;
      });
  });

  if (input.files.length) add(input.files); // e.g. after the browser's back button
  else render();
})();
