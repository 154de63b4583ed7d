// While the server's reader is still starting, a sent picture waits a few seconds for it: say so, as
// "Sending…" on the button alone looked stuck (templates/recognizer/_reader_starting.html).
(function () {
  var note = document.querySelector("[data-reader-starting]");
  var form = note && note.closest("form");
  if (!form) return;
  form.addEventListener("submit", function () {
    note.hidden = false;
  });
})();
