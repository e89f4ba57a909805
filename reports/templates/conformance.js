// Filters of the conformance matrix: a row shows when its area, level, status and text match.
(function () {
  var area = document.getElementById("f-area");
  if (!area) return;
  var status = document.getElementById("f-status");
  var text = document.getElementById("f-text");
  var count = document.getElementById("f-count");
  var levels = Array.prototype.slice.call(document.querySelectorAll(".f-level"));
  var bodies = Array.prototype.slice.call(document.querySelectorAll("#matrix tbody"));
  function statusMatches(row, want) {
    var st = " " + row.dataset.st + " ";
    switch (want) {
      case "bad": return st.indexOf(" fail ") >= 0 || st.indexOf(" error ") >= 0;
      case "notpass": return st !== " pass ";
      case "disagree": return row.dataset.agree === "false";
      case "allpass": return st === " pass ";
    }
    return true;
  }
  function apply() {
    var on = {};
    levels.forEach(function (l) { on[l.value] = l.checked; });
    var words = text.value.trim().toLowerCase();
    var shown = 0, total = 0;
    bodies.forEach(function (body) {
      var any = false;
      var areaOK = !area.value || body.dataset.area === area.value;
      Array.prototype.forEach.call(body.querySelectorAll("tr[data-level]"), function (row) {
        total++;
        var ok = areaOK && on[row.dataset.level] && statusMatches(row, status.value) &&
          (!words || row.querySelector("th").textContent.toLowerCase().indexOf(words) >= 0);
        row.hidden = !ok;
        if (ok) { any = true; shown++; }
      });
      body.hidden = !any;
    });
    count.textContent = shown + " of " + total + " cases";
  }
  [area, status, text].concat(levels).forEach(function (el) { el.addEventListener("input", apply); });
  // Filters can be given in the query string, so a link can point at a view:
  // conformance.html?rows=bad&area=close&level=MUST,SHOULD&find=chunked
  var q = new URLSearchParams(location.search);
  if (q.has("area")) area.value = q.get("area");
  if (q.has("rows")) status.value = q.get("rows");
  if (q.has("find")) text.value = q.get("find");
  if (q.has("level")) {
    var want = q.get("level").toUpperCase().split(",");
    levels.forEach(function (l) { l.checked = want.indexOf(l.value) >= 0; });
  }
  apply();
})();
// Escape closes an open evidence panel, returning to its row.
document.addEventListener("keydown", function (e) {
  var open = e.key === "Escape" && document.querySelector(".detail:target");
  if (open) location.hash = open.querySelector(".close").getAttribute("href");
});
