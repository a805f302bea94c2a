// live.js appends to a collection's object table the versions its stream
// sends as they are added (server/stream.go). It starts after the newest
// row the page listed, so nothing shown twice and nothing missed; the
// browser's EventSource reconnects on its own and resumes from the last
// event id. Every cell is set with textContent: object fields are data,
// never markup.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var table = document.getElementById("objects");
  if (!live || !table || !window.EventSource) {
    return;
  }
  var url = live.dataset.stream;
  var params = [];
  if (live.dataset.after) {
    params.push("after=" + encodeURIComponent(live.dataset.after));
  }
  if (live.dataset.type) {
    params.push("match[type]=" + encodeURIComponent(live.dataset.type));
  }
  if (params.length) {
    url += "?" + params.join("&");
  }
  var body = table.tBodies[0];
  var shown = 0;
  var maxShown = 1000; // a busy collection must not grow the page for ever
  var source = new EventSource(url);

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) {
      td.className = className;
    }
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function added(stamp) {
    // The event id is a TAXII timestamp: show it as the table does.
    return stamp.replace("T", " ").replace(/\.\d+Z$/, "Z");
  }

  source.addEventListener("object", function (ev) {
    var obj;
    try {
      obj = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    var row = document.createElement("tr");
    row.className = "new";
    if (obj.revoked === true) {
      row.className += " revoked";
    }
    cell(row, added(ev.lastEventId));
    cell(row, obj.type || "");
    cell(row, obj.name || obj.pattern || obj.value || "", "wrap");
    var link = document.createElement("a");
    link.href = live.dataset.base + "objects/" + encodeURIComponent(obj.id || "") + "/";
    var code = document.createElement("code");
    code.textContent = obj.id || "";
    link.appendChild(code);
    cell(row, "").appendChild(link);
    cell(row, obj.modified || obj.created || "");
    body.appendChild(row);
    var empty = document.getElementById("empty");
    if (empty) {
      empty.remove();
    }
    shown++;
    if (shown > maxShown) {
      body.removeChild(body.rows[0]);
    }
    live.textContent = shown + (shown === 1 ? " new object" : " new objects") + " since the page was opened.";
  });

  source.onopen = function () {
    live.classList.add("open"); // the stream is up: what is added now shows
  };

  source.onerror = function () {
    live.classList.remove("open");
    if (source.readyState === EventSource.CLOSED) {
      live.textContent = "The stream has closed; reload the page to see new objects.";
    }
  };
})();
