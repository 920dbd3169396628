// Latchkey: the job page's live tail. Every page works without this script (the job page then reloads itself).
(function () {
  "use strict";
  var log = document.getElementById("trace");
  if (!log || !log.dataset.traceUrl) return;
  var offset = Number(log.dataset.offset) || 0;
  var follow = true;
  var status = document.getElementById("trace-status");
  // Follow the end of the log until the reader scrolls up; scrolling back to the end follows again.
  log.addEventListener("scroll", function () {
    follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 24;
  }, { passive: true });
  log.scrollTop = log.scrollHeight;
  function poll() {
    fetch(log.dataset.traceUrl + "?offset=" + offset, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (update) {
        if (!update) { setTimeout(poll, 5000); return; }
        if (update.html) {
          var empty = document.getElementById("trace-empty");
          if (empty) empty.remove();
          // The server escapes every character of the trace; the fragment holds only our own markup.
          log.insertAdjacentHTML("beforeend", update.html);
          if (follow) log.scrollTop = log.scrollHeight;
        }
        offset = update.offset;
        if (update.complete) {
          log.removeAttribute("data-trace-url");
          if (status) status.textContent = "Job log · the job " + update.status + ".";
          return;
        }
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
