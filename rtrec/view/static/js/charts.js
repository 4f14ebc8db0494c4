// Charts (uPlot, vendored): latency per turn against the threshold, tokens per response.
// Clicking a bar seeks to that turn or response.
(function (R) {
  "use strict";
  const U = R.util;

  const HEIGHT = 190;

  function barChart(box, empty, xs, series, onPick) {
    box.textContent = "";
    if (!xs.length) {
      box.append(U.el("p", { class: "empty", text: empty }));
      return null;
    }
    const width = Math.max(240, box.clientWidth || 400);
    const bars = window.uPlot.paths.bars;
    const options = {
      width,
      height: HEIGHT,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: {
        x: { time: false, range: (u, lo, hi) => [lo - 0.6, hi + 0.6] },
        // Bars stand on zero.
        y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.08 : 1] },
      },
      axes: [
        { splits: () => xs, values: (u, splits) => splits.map(String) },
        { size: 56 },
      ],
      series: [{ label: "#", show: false }].concat(series.map((s) => ({
        label: s.label,
        fill: s.color,
        stroke: s.color,
        width: 0,
        paths: bars({ size: [s.size || 0.6, 40], align: s.align || 0 }),
        points: { show: false },
        value: (u, v) => (v == null ? "-" : Math.round(v).toLocaleString("en") + (s.unit || "")),
      }))),
    };
    const plot = new window.uPlot(options, [xs].concat(series.map((s) => s.values)), box);
    plot.over.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      if (idx != null) onPick(idx);
    });
    const observer = new ResizeObserver(() => {
      const w = Math.max(240, box.clientWidth || 400);
      if (w !== plot.width) plot.setSize({ width: w, height: HEIGHT });
    });
    observer.observe(box);
    return { destroy() { observer.disconnect(); plot.destroy(); } };
  }

  class Charts {
    constructor(latencyBox, tokensBox, onSeek) {
      this.latencyBox = latencyBox;
      this.tokensBox = tokensBox;
      this.onSeek = onSeek;
      this.threshold = 800;
      this.model = null;
      this.drawn = {};
    }

    _draw(name, box, empty, xs, series, onPick) {
      if (this.drawn[name]) this.drawn[name].destroy();
      this.drawn[name] = barChart(box, empty, xs, series, onPick);
    }

    setModel(model) {
      this.model = model;
      this._latency();
      this._tokens();
    }

    setThreshold(threshold) {
      this.threshold = threshold;
      if (this.model) this._latency();
    }

    _latency() {
      const turns = this.model.turns.filter((t) => t.latency_ms != null);
      const xs = turns.map((t) => t.turn + 1);
      const within = turns.map((t) => (t.latency_ms <= this.threshold ? t.latency_ms : null));
      const over = turns.map((t) => (t.latency_ms > this.threshold ? t.latency_ms : null));
      this._draw("latency", this.latencyBox, "No turn was answered.", xs, [
        { label: "within " + this.threshold + " ms", values: within, color: "#15803d", unit: " ms" },
        { label: "over", values: over, color: "#dc2626", unit: " ms" },
      ], (idx) => this.onSeek(turns[idx].from_ms));
    }

    _tokens() {
      const responses = this.model.responses.filter((r) => r.total_tokens != null);
      const xs = responses.map((r, i) => i + 1);
      this._draw("tokens", this.tokensBox, "No response reported its usage.", xs, [
        { label: "input", values: responses.map((r) => r.input_tokens), color: "#64748b", size: 0.35, align: -1 },
        { label: "output", values: responses.map((r) => r.output_tokens), color: "#9333ea", size: 0.35, align: 1 },
      ], (idx) => this.onSeek(responses[idx].start_ms));
    }
  }

  R.Charts = Charts;
})(window.Rtrec = window.Rtrec || {});
