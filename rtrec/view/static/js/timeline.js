// The timeline: the whole call on one zoomable, pannable axis, lane by lane (Perfetto's
// shape).  Waveforms are drawn on canvases; spans and marks are elements, so each can be
// hovered, clicked and counted.  Everything placed here comes from the model as Python
// computed it: this module only maps milliseconds to pixels.
(function (R) {
  "use strict";
  const U = R.util;
  const el = U.el;

  const LANES = [
    ["ruler", ""],
    ["user", "User"],
    ["assistant", "Assistant"],
    ["responses", "Responses"],
    ["turns", "Latency"],
    ["tools", "Tools"],
    ["errors", "Errors"],
  ];
  const MIN_SPAN_MS = 50;
  const TICK_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000,
    60000, 120000, 300000, 600000, 900000, 1800000, 3600000];

  function span(ms0, ms1) {
    return U.clock(ms0, 2) + " – " + U.clock(ms1, 2);
  }

  function ms(value) {
    return value == null ? "-" : Math.round(value) + " ms";
  }

  class Timeline {
    constructor(root, player) {
      this.root = root;
      this.player = player;
      this.threshold = 800;
      this.items = [];
      this.peaks = null;
      this.extent = 1;
      this.view = { start: 0, end: 1 };
      this.tracks = {};
      this.canvases = {};
      this._render = U.perFrame(() => this.render());
      this._build();
      this._listen();
    }

    _build() {
      const main = el("div", { class: "tl-main" });
      for (const [name, label] of LANES) {
        const track = el("div", { class: "tl-track", dataset: { lane: name } });
        const lane = el("div", { class: "tl-lane " + name + (name === "user" || name === "assistant" ? " wave" : "") + (name === "ruler" ? " tl-ruler" : "") },
          el("div", { class: "tl-label", text: label }), track);
        if (name === "ruler" || name === "user" || name === "assistant") {
          this.canvases[name] = track.appendChild(el("canvas"));
        }
        this.tracks[name] = track;
        main.append(lane);
      }
      this.playhead = el("div", { class: "tl-playhead" });
      main.append(this.playhead);
      const overviewTrack = el("div", { class: "tl-track", dataset: { lane: "overview" } });
      this.canvases.overview = overviewTrack.appendChild(el("canvas"));
      this.window = overviewTrack.appendChild(el("div", { class: "tl-window" }));
      this.overview = overviewTrack;
      const overview = el("div", { class: "tl-lane overview" },
        el("div", { class: "tl-label", text: "Whole call" }), overviewTrack);
      this.main = main;
      this.root.append(main, overview);
      for (const canvas of Object.values(this.canvases)) {
        canvas.style.width = "100%";
        canvas.style.height = "100%";
      }
    }

    get width() {
      return this.tracks.ruler.clientWidth || 1;
    }

    msAt(clientX) {
      const box = this.tracks.ruler.getBoundingClientRect();
      return this.view.start + ((clientX - box.left) / (box.width || 1)) * (this.view.end - this.view.start);
    }

    // -- the model --------------------------------------------------------------------

    setModel(model) {
      const first = this.items.length === 0 && this.extent <= 1;
      const wasWhole = this.view.start <= 0 && this.view.end >= this.extent;
      this.model = model;
      this.extent = Math.max(1, model.extent_ms);
      for (const item of this.items) item.el.remove();
      this.items = [];
      this._addSpeech(model);
      this._addResponses(model);
      this._addTurns(model);
      this._addTools(model);
      this._addErrors(model);
      if (first || wasWhole) this.fit();
      else this._render();
    }

    setPeaks(peaks) {
      this.peaks = peaks;
      this._render();
    }

    setThreshold(threshold) {
      this.threshold = threshold;
      for (const item of this.items) {
        if (item.turn && item.turn.latency_ms != null) {
          item.el.classList.toggle("over", item.turn.latency_ms > threshold);
        }
      }
    }

    _add(lane, start, end, node, extra) {
      const item = Object.assign({ el: node, start, end, point: end == null }, extra || {});
      this.tracks[lane].append(node);
      this.items.push(item);
      return item;
    }

    _addSpeech(model) {
      for (const s of model.user_spans) {
        const tip = "User speech " + span(s.start_ms, s.end_ms) + "\n" + (s.text || "");
        this._add("user", s.start_ms, s.end_ms, el("div", {
          class: "tl-item speech user", text: s.text || "", "data-tip": tip,
          dataset: { seek: s.start_ms, itemId: s.item_id },
        }));
      }
      for (const s of model.assistant_spans) {
        const notes = [];
        if (s.cut) notes.push("cut at " + ms(s.truncated_ms) + " of " + ms(s.audio_ms));
        if (s.interrupted) notes.push("response " + s.status);
        const tip = "Assistant audio, as heard " + span(s.start_ms, s.end_ms) +
          (notes.length ? "\n" + notes.join(", ") : "") + "\n" + (s.text || "");
        const cls = "tl-item speech assistant" + (s.interrupted ? " interrupted" : "");
        this._add("assistant", s.start_ms, s.end_ms, el("div", {
          class: cls, text: s.text || "", "data-tip": tip,
          dataset: { seek: s.start_ms, itemId: s.item_id },
        }));
        if (s.cut) {
          this._add("assistant", s.end_ms, null, el("div", {
            class: "tl-item cut-mark", "data-tip": "Cut: the user heard " + ms(s.truncated_ms) +
              " of " + ms(s.audio_ms), dataset: { seek: s.end_ms },
          }));
        }
      }
    }

    _addResponses(model) {
      for (const r of model.responses) {
        if (r.start_ms == null) continue;
        const end = r.end_ms != null ? r.end_ms : this.extent;
        const tokens = r.total_tokens != null ? r.total_tokens + " tokens" : "";
        const tip = "Response " + r.response_id + "\n" + (r.status || "in progress") +
          (r.status_reason ? " (" + r.status_reason + ")" : "") + ", " + span(r.start_ms, end) +
          "\nfirst text " + ms(r.first_text_ms != null ? r.first_text_ms - r.start_ms : null) +
          ", first audio " + ms(r.first_audio_ms != null ? r.first_audio_ms - r.start_ms : null) +
          " after created" + (tokens ? "\n" + tokens + " (" + (r.input_tokens || 0) + " in, " +
          (r.output_tokens || 0) + " out)" : "");
        const cls = "tl-item response" + (r.interrupted ? " interrupted" : "") +
          (r.out_of_band ? " out-of-band" : "");
        this._add("responses", r.start_ms, end, el("div", {
          class: cls, text: (r.status || "…") + (tokens ? " · " + tokens : ""), "data-tip": tip,
          dataset: { seek: r.start_ms, responseId: r.response_id },
        }));
        if (r.first_text_ms != null) {
          this._add("responses", r.first_text_ms, null,
            el("div", { class: "tl-item resp-mark first-text" }));
        }
        if (r.first_audio_ms != null) {
          this._add("responses", r.first_audio_ms, null,
            el("div", { class: "tl-item resp-mark first-audio" }));
        }
      }
    }

    _addTurns(model) {
      for (const t of model.turns) {
        const replied = t.to_ms != null && t.from_ms != null;
        const cls = "tl-item turn-mark" + (replied ? "" : " no-reply") +
          (replied && t.latency_ms > this.threshold ? " over" : "");
        const tip = "Turn " + (t.turn + 1) + ": " + (replied
          ? t.label + " from the end of the user's speech (" + (t.ended_by || "?") +
            ") to the first assistant " + (model.responses.some((r) => r.response_id === t.response_id && r.first_audio_ms != null) ? "audio" : "text")
          : "no reply") + (t.text ? "\n" + t.text : "");
        // A turn the views give no end of speech for still gets its mark, where its item is.
        const line = model.transcript.find((l) => l.item_id === t.item_id);
        const at = t.from_ms != null ? t.from_ms : line && line.start_ms != null ? line.start_ms : 0;
        const start = replied ? Math.min(t.from_ms, t.to_ms) : at;
        const end = replied ? Math.max(t.from_ms, t.to_ms) : null;
        const node = el("div", {
          class: cls, "data-tip": tip, dataset: { seek: at, turn: t.turn, itemId: t.item_id },
        }, el("span", { class: "turn-label", text: t.label }));
        this._add("turns", start, end, node, { turn: t, minWidth: 4 });
      }
    }

    _addTools(model) {
      for (const c of model.tools) {
        if (c.start_ms == null) continue;
        const answered = c.end_ms != null;
        const tip = (c.name || "?") + "(" + (c.arguments || "") + ")\n→ " +
          (answered ? (c.output || "") + "\nanswered after " + ms(c.answer_ms) : "no output recorded");
        this._add("tools", c.start_ms, answered ? c.end_ms : c.start_ms, el("div", {
          class: "tl-item tl-tool" + (answered ? "" : " unanswered"), text: c.name || "?",
          "data-tip": tip, dataset: { seek: c.start_ms, callId: c.call_id || "" },
        }), { minWidth: 10 });
      }
    }

    _addErrors(model) {
      for (const e of model.errors) {
        const tip = "Error" + (e.code ? " " + e.code : "") + ": " + (e.message || "") +
          (e.client_event_type ? "\nabout the client's " + e.client_event_type : "");
        this._add("errors", e.t_ms, null, el("div", {
          class: "tl-item error-mark", text: "!", "data-tip": tip, dataset: { seek: e.t_ms },
        }));
      }
    }

    // -- the view ---------------------------------------------------------------------

    fit() {
      this.setView(0, this.extent);
    }

    setView(start, end) {
      let span = U.clamp(end - start, MIN_SPAN_MS, this.extent);
      let from = U.clamp(start, 0, Math.max(0, this.extent - span));
      this.view = { start: from, end: from + span };
      this._render();
    }

    zoom(factor, atMs) {
      const at = atMs == null ? (this.view.start + this.view.end) / 2 : atMs;
      const span = (this.view.end - this.view.start) * factor;
      const share = (at - this.view.start) / (this.view.end - this.view.start);
      this.setView(at - share * span, at - share * span + span);
    }

    pan(deltaMs) {
      this.setView(this.view.start + deltaMs, this.view.end + deltaMs);
    }

    reveal(atMs) {
      const span = this.view.end - this.view.start;
      if (atMs < this.view.start || atMs > this.view.end) this.setView(atMs - span * 0.1, atMs + span * 0.9);
    }

    render() {
      const width = this.width;
      const { start, end } = this.view;
      const scale = width / (end - start);
      for (const item of this.items) {
        const x0 = (item.start - start) * scale;
        const x1 = item.point ? x0 : (item.end - start) * scale;
        if (x1 < -40 || x0 > width + 40) {
          item.el.style.display = "none";
          continue;
        }
        item.el.style.display = "";
        item.el.style.left = x0.toFixed(1) + "px";
        if (!item.point) item.el.style.width = Math.max(item.minWidth || 2, x1 - x0).toFixed(1) + "px";
      }
      const waves = this.peaks;
      R.waveform.clearCanvas(this.canvases.user);
      R.waveform.clearCanvas(this.canvases.assistant);
      R.waveform.drawWave(this.canvases.user, waves && waves.user, start, end, "#2563eb");
      R.waveform.drawWave(this.canvases.assistant, waves && waves.assistant, start, end, "#9333ea");
      this._drawRuler();
      this._drawOverview();
      this.renderPlayhead();
    }

    renderPlayhead() {
      const now = this.player.currentMs;
      const { start, end } = this.view;
      const label = this.tracks.ruler.parentElement.firstChild.offsetWidth;
      const x = ((now - start) / (end - start)) * this.width;
      this.playhead.hidden = x < 0 || x > this.width;
      this.playhead.style.left = (label + x).toFixed(1) + "px";
      const whole = this.overview.clientWidth || 1;
      this.window.style.left = ((start / this.extent) * whole).toFixed(1) + "px";
      this.window.style.width = Math.max(2, ((end - start) / this.extent) * whole).toFixed(1) + "px";
    }

    _drawRuler() {
      const canvas = this.canvases.ruler;
      const ratio = window.devicePixelRatio || 1;
      const width = Math.round(canvas.clientWidth * ratio);
      const height = Math.round(canvas.clientHeight * ratio);
      if (canvas.width !== width) canvas.width = width;
      if (canvas.height !== height) canvas.height = height;
      const ctx = canvas.getContext("2d");
      ctx.clearRect(0, 0, width, height);
      const { start, end } = this.view;
      const pxPerMs = width / (end - start);
      const step = TICK_STEPS.find((s) => s * pxPerMs >= 90 * ratio) || TICK_STEPS[TICK_STEPS.length - 1];
      const decimals = step < 100 ? 2 : step < 1000 ? 1 : 0;
      ctx.fillStyle = "#667085";
      ctx.strokeStyle = "#d0d0cb";
      ctx.font = 11 * ratio + "px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
        const x = Math.round((t - start) * pxPerMs) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, height * 0.55);
        ctx.lineTo(x, height);
        ctx.stroke();
        ctx.fillText(U.clock(t, decimals), x + 3 * ratio, height * 0.35);
      }
    }

    _drawOverview() {
      const canvas = this.canvases.overview;
      const size = canvas.clientWidth + "x" + canvas.clientHeight + "@" + this.extent;
      if (this._overviewDrawn === this.peaks && this._overviewSize === size) return;
      R.waveform.clearCanvas(canvas);
      if (this.peaks) {
        R.waveform.drawWave(canvas, this.peaks.user, 0, this.extent, "rgba(37,99,235,.55)", 0.5);
        R.waveform.drawWave(canvas, this.peaks.assistant, 0, this.extent, "rgba(147,51,234,.55)", 0.5);
      }
      this._overviewDrawn = this.peaks;
      this._overviewSize = size;
    }

    // -- input ----------------------------------------------------------------------

    _listen() {
      let drag = null;
      const onMove = (event) => {
        if (!drag) return;
        const dx = event.clientX - drag.x;
        if (Math.abs(dx) > 3) drag.moved = true;
        if (drag.moved) {
          const msPerPx = (drag.view.end - drag.view.start) / this.width;
          this.setView(drag.view.start - dx * msPerPx, drag.view.end - dx * msPerPx);
        }
      };
      const onUp = (event) => {
        window.removeEventListener("mousemove", onMove);
        window.removeEventListener("mouseup", onUp);
        if (!drag) return;
        drag.track.classList.remove("dragging");
        if (!drag.moved) this._click(event, drag.target);
        drag = null;
      };
      this.main.addEventListener("mousedown", (event) => {
        const track = event.target.closest(".tl-track");
        if (!track || event.button !== 0) return;
        event.preventDefault();
        drag = { x: event.clientX, view: Object.assign({}, this.view), moved: false, track, target: event.target };
        track.classList.add("dragging");
        window.addEventListener("mousemove", onMove);
        window.addEventListener("mouseup", onUp);
      });
      this.main.addEventListener("wheel", (event) => {
        if (event.ctrlKey || event.metaKey) {
          event.preventDefault();
          this.zoom(Math.exp(event.deltaY * 0.002), this.msAt(event.clientX));
        } else if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
          event.preventDefault();
          const delta = event.deltaX || event.deltaY;
          this.pan((delta * (this.view.end - this.view.start)) / this.width);
        }
      }, { passive: false });
      const jump = (event) => {
        const box = this.overview.getBoundingClientRect();
        const at = ((event.clientX - box.left) / box.width) * this.extent;
        const span = this.view.end - this.view.start;
        this.setView(at - span / 2, at + span / 2);
      };
      this.overview.addEventListener("mousedown", (event) => {
        jump(event);
        const move = (e) => jump(e);
        const up = () => {
          window.removeEventListener("mousemove", move);
          window.removeEventListener("mouseup", up);
        };
        window.addEventListener("mousemove", move);
        window.addEventListener("mouseup", up);
      });
      new ResizeObserver(() => this._render()).observe(this.root);
    }

    _click(event, target) {
      const item = target.closest("[data-seek]");
      const at = item ? Number(item.dataset.seek) : this.msAt(event.clientX);
      for (const selected of this.root.querySelectorAll(".tl-item.selected")) selected.classList.remove("selected");
      if (item) item.classList.add("selected");
      this.root.dispatchEvent(new CustomEvent("seek", { detail: { ms: at, itemId: item ? item.dataset.itemId : null } }));
    }
  }

  R.Timeline = Timeline;
})(window.Rtrec = window.Rtrec || {});
