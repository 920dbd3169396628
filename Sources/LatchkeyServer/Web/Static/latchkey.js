// Latchkey: the job page's live tail and the pipeline graph's needs: edges. Every page works without this script (the job
// page then reloads itself; the pipeline page names each job's needs in words).
(function () {
  "use strict";
  var graph = document.getElementById("pipeline-graph");
  if (!graph) return;
  var svgNS = "http://www.w3.org/2000/svg";
  // One curve from the right edge of each needed job to the left edge of the job that needs it, as GitLab's graph draws them.
  function draw() {
    var old = graph.querySelector("svg.needs-edges");
    if (old) old.remove();
    var svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("class", "needs-edges");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("width", graph.scrollWidth);
    svg.setAttribute("height", graph.scrollHeight);
    var box = graph.getBoundingClientRect();
    var byName = {};
    graph.querySelectorAll(".job-card[data-job-name]").forEach(function (card) { byName[card.dataset.jobName] = card; });
    graph.querySelectorAll(".job-card[data-needs]").forEach(function (card) {
      var needs;
      try { needs = JSON.parse(card.dataset.needs); } catch (e) { return; }
      needs.forEach(function (name) {
        var from = byName[name];
        if (!from || from === card) return;
        var a = from.getBoundingClientRect(), b = card.getBoundingClientRect();
        var x1 = a.right - box.left + graph.scrollLeft, y1 = a.top + a.height / 2 - box.top;
        var x2 = b.left - box.left + graph.scrollLeft, y2 = b.top + b.height / 2 - box.top;
        if (x2 <= x1) return; // the same column or a phone's stacked layout: the words under the job say it
        var bend = Math.max(12, (x2 - x1) / 2);
        var path = document.createElementNS(svgNS, "path");
        path.setAttribute("d", "M" + x1 + "," + y1 + " C" + (x1 + bend) + "," + y1 + " " + (x2 - bend) + "," + y2 + " " + x2 + "," + y2);
        path.setAttribute("data-edge", name + " -> " + card.dataset.jobName);
        svg.appendChild(path);
      });
    });
    graph.appendChild(svg);
  }
  draw();
  window.addEventListener("resize", draw);
})();

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
  // The header follows the job too: its badge, duration, buttons and the Job token panel, from the same answer. Text goes in
  // through textContent only; the buttons are the page's own forms, shown or hidden.
  function header(update) {
    var badge = document.getElementById("job-status");
    if (badge && update.statusClass) {
      badge.className = "badge status-" + update.statusClass;
      var label = badge.querySelector(".badge-label");
      if (label) label.textContent = update.status;
    }
    var duration = document.getElementById("job-duration"), durationLabel = document.getElementById("job-duration-label");
    if (duration && update.duration) {
      duration.textContent = update.duration;
      duration.hidden = false;
      if (durationLabel) durationLabel.hidden = false;
    }
    var buttons = { play: update.canPlay, retry: update.canRetry, cancel: update.canCancel };
    document.querySelectorAll("#job-actions form[data-action]").forEach(function (form) {
      form.hidden = !buttons[form.dataset.action];
    });
    // The Job token panel and the section at the log's end list the same notices.
    if (update.refusals && update.refusals.length) {
      ["refusals", "refusals-end"].forEach(function (id) { fillRefusals(document.getElementById(id), update.refusals); });
      ["token-panel", "refusal-section"].forEach(function (id) {
        var container = document.getElementById(id);
        if (container) container.hidden = false;
      });
    }
  }
  function fillRefusals(list, refusals) {
    if (!list) return;
    while (list.firstChild) list.removeChild(list.firstChild);
    refusals.forEach(function (refusal) {
      var item = document.createElement("li");
      var text = document.createElement("span");
      text.className = "refusal-text";
      text.textContent = refusal.text;
      item.appendChild(text);
      if (refusal.count > 1) {
        var count = document.createElement("span");
        count.className = "count";
        count.textContent = " ×" + refusal.count;
        var spoken = document.createElement("span");
        spoken.className = "sr-only";
        spoken.textContent = " times";
        count.appendChild(spoken);
        item.appendChild(count);
      }
      list.appendChild(item);
    });
  }
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
        header(update);
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
