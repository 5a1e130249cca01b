// The review page: choosing a field shows the page that prints it, with its evidence boxed.
(function () {
  "use strict";
  function ready() {
    var frame = document.getElementById("review-frame");
    if (!frame) { return; }
    var img = document.getElementById("review-page-img");
    var boxes = document.getElementById("review-boxes");
    var number = document.getElementById("review-page-number");
    var selection = document.getElementById("review-selection");
    var sizes = JSON.parse(document.getElementById("review-page-sizes").textContent);
    var locations = JSON.parse(document.getElementById("review-locations").textContent);
    var pageCount = parseInt(frame.dataset.pageCount, 10) || 1;
    var urlOfPage1 = frame.dataset.pageUrl;
    var current = 1;
    var selected = null;

    function pageUrl(page) { return urlOfPage1.replace(/\/1\.png$/, "/" + page + ".png"); }

    function draw() {
      boxes.replaceChildren();
      var size = sizes[String(current)];
      if (!selected || !size) { return; }
      (locations[selected] || []).forEach(function (loc) {
        if (loc.page !== current) { return; }
        var b = loc.bbox, w = size[0], h = size[1];
        var el = document.createElement("div");
        el.className = "review-box";
        el.title = loc.path + ": " + loc.text;
        el.dataset.path = loc.path;
        el.dataset.page = String(loc.page);
        el.style.left = (100 * b[0] / w) + "%";
        el.style.top = (100 * (h - b[3]) / h) + "%";
        el.style.width = (100 * (b[2] - b[0]) / w) + "%";
        el.style.height = (100 * (b[3] - b[1]) / h) + "%";
        boxes.appendChild(el);
      });
    }

    function show(page) {
      current = Math.min(Math.max(page, 1), pageCount);
      number.textContent = String(current);
      frame.dataset.page = String(current);
      if (img.getAttribute("src") !== pageUrl(current)) { img.setAttribute("src", pageUrl(current)); }
      draw();
    }

    function select(row) {
      document.querySelectorAll(".review-row.review-selected").forEach(function (r) {
        r.classList.remove("review-selected");
      });
      row.classList.add("review-selected");
      selected = row.dataset.field;
      var found = locations[selected] || [];
      if (found.length) {
        selection.textContent = selected + ": page " + found[0].page;
        show(found[0].page);
      } else {
        selection.textContent = selected + ": " + (row.dataset.status || "no evidence").replace("_", " ");
        draw();
      }
    }

    document.querySelectorAll(".review-row").forEach(function (row) {
      row.addEventListener("click", function () { select(row); });
      row.addEventListener("focusin", function () { select(row); });
    });
    document.getElementById("review-prev").addEventListener("click", function () { show(current - 1); });
    document.getElementById("review-next").addEventListener("click", function () { show(current + 1); });
    show(1);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
