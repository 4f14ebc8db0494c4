// rtrec ui's session list: sortable and filterable by every column, refreshed while any
// session is still recording.
(function (R) {
  "use strict";
  const U = R.util;
  const el = U.el;
  const REFRESH_MS = 3000;

  // [key, heading, kind, how a value shows, what a number typed in its filter counts]
  const COLUMNS = [
    ["session_id", "#", "num", (v) => String(v)],
    ["started_at", "date", "text", (v) => (v || "").replace("T", " ").replace(/\.\d+Z$/, "Z")],
    ["model", "model", "text", (v) => v || "-"],
    ["protocol", "protocol", "text", (v) => v || "-"],
    ["end_reason", "end", "text", (v, row) => (row.live ? "recording" : v || "-")],
    ["duration_ms", "duration", "num", (v) => U.clock(v, 1), 1000],
    ["turns", "turns", "num", (v) => String(v)],
    ["latency_p50_ms", "p50", "num", (v) => (v == null ? "-" : Math.round(v) + " ms")],
    ["latency_p95_ms", "p95", "num", (v) => (v == null ? "-" : Math.round(v) + " ms")],
    ["errors", "errors", "num", (v) => String(v)],
    ["event_count", "events", "num", (v) => (v == null ? "-" : v.toLocaleString("en"))],
  ];

  let rows = [];
  let sortKey = "session_id";
  let sortDown = true;
  const filters = {};

  function numberTest(text, unit) {
    const found = /^\s*([<>]=?|=)?\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
    if (!found) return null;
    const x = Number(found[2]) * unit;
    const op = found[1] || "=";
    return (v) => v != null && ({ "<": v < x, "<=": v <= x, ">": v > x, ">=": v >= x, "=": v === x })[op];
  }

  function accepts(row) {
    for (const [key, , kind, show, unit] of COLUMNS) {
      const text = (filters[key] || "").trim();
      if (!text) continue;
      const test = kind === "num" ? numberTest(text, unit || 1) : null;
      if (test) {
        if (!test(row[key])) return false;
      } else if (!show(row[key], row).toLowerCase().includes(text.toLowerCase())) {
        return false;
      }
    }
    return true;
  }

  function compare(a, b) {
    const x = a[sortKey];
    const y = b[sortKey];
    if (x == null && y == null) return 0;
    if (x == null) return 1;
    if (y == null) return -1;
    const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return sortDown ? -order : order;
  }

  function renderFilters() {
    const inputs = document.getElementById("filters");
    inputs.className = "filters";
    for (const [key, heading] of COLUMNS) {
      inputs.append(el("th", {}, el("input", {
        type: "search", dataset: { key }, "aria-label": "filter " + heading,
        oninput: (event) => {
          filters[key] = event.target.value;
          renderRows();
        },
      })));
    }
  }

  function renderHeads() {
    const heads = document.getElementById("heads");
    heads.textContent = "";
    for (const [key, heading, kind] of COLUMNS) {
      const arrow = key === sortKey ? (sortDown ? " ▼" : " ▲") : "";
      heads.append(el("th", {
        class: kind, dataset: { key },
        onclick: () => {
          sortDown = key === sortKey ? !sortDown : kind === "num" || key === "started_at";
          sortKey = key;
          renderHeads();
          renderRows();
        },
      }, heading, el("span", { class: "arrow", text: arrow })));
    }
  }

  function renderRows() {
    const body = document.getElementById("rows");
    body.textContent = "";
    const shown = rows.filter(accepts).sort(compare);
    for (const row of shown) {
      const link = "/s/" + row.session_id;
      const tr = el("tr", { dataset: { sessionId: row.session_id }, onclick: () => { location.href = link; } });
      for (const [key, , kind, show] of COLUMNS) {
        const text = show(row[key], row);
        let cls = kind;
        if (key === "end_reason" && row.live) cls += " live";
        if (key === "errors" && row.errors) cls += " bad";
        tr.append(el("td", { class: cls, dataset: { key } },
          key === "session_id" ? el("a", { href: link, text }) : text));
      }
      body.append(tr);
    }
    document.getElementById("empty").hidden = shown.length > 0;
    document.getElementById("summary").textContent =
      shown.length + " of " + rows.length + " sessions" +
      (rows.some((r) => r.live) ? " · " + rows.filter((r) => r.live).length + " recording" : "");
  }

  async function load() {
    const response = await fetch("/api/sessions", { credentials: "same-origin" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    rows = await response.json();
    renderRows();
    document.documentElement.dataset.state = "ready";
    if (rows.some((r) => r.live)) setTimeout(() => load().catch(report), REFRESH_MS);
  }

  function report(error) {
    console.error("rtrec ui: " + error.message);
  }

  renderHeads();
  renderFilters();
  load().catch(report);
})(window.Rtrec = window.Rtrec || {});
