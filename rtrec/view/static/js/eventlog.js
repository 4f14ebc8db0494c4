// The event log: every frame with time, direction, type and size, filtered by type as
// `replay --type` filters, following the playhead.  Virtualised: only the rows on screen
// exist as elements, so an hour of frames scrolls as lightly as a minute of them.
(function (R) {
  "use strict";
  const U = R.util;
  const el = U.el;

  const ROW = 20;
  const JSON_LINE = 15;
  const MAX_JSON_LINES = 24;
  const USER_SCROLL_MS = 2000; // after the reader scrolls, following waits this long
  const FOLLOW_SLACK_MS = 0.5;

  class EventLog extends EventTarget {
    constructor(parts, source) {
      super();
      this.box = parts.box;
      this.countEl = parts.count;
      this.errorEl = parts.error;
      this.followBox = parts.follow;
      this.source = source;
      this.seq = [];
      this.t = [];
      this.dir = [];
      this.type = [];
      this.size = [];
      this.typeNames = [];
      this.typeIndex = new Map();
      this.accepted = [];
      this.filter = R.glob.parseTypeFilter("");
      this.filtered = [];
      this.expanded = new Map(); // event index -> extra height in px
      this.layout = []; // [filtered position, extra] of expanded rows, sorted
      this.pretty = new Map(); // seq -> text shown
      this.currentPos = -1;
      this.userScrolledAt = -Infinity;
      this.spacer = this.box.appendChild(el("div", { class: "ev-spacer" }));
      this._render = U.perFrame(() => this.render());
      this.box.addEventListener("scroll", () => this._render());
      for (const kind of ["wheel", "mousedown", "keydown", "touchstart"]) {
        this.box.addEventListener(kind, () => { this.userScrolledAt = performance.now(); }, { passive: true });
      }
      new ResizeObserver(() => this._render()).observe(this.box);
    }

    get count() {
      return this.seq.length;
    }

    get lastSeq() {
      return this.seq.length ? this.seq[this.seq.length - 1] : -1;
    }

    _typeId(name) {
      const key = name || "";
      let id = this.typeIndex.get(key);
      if (id == null) {
        id = this.typeNames.length;
        this.typeNames.push(key);
        this.typeIndex.set(key, id);
        this.accepted.push(this.filter.accepts(key));
      }
      return id;
    }

    // rows: [seq, t_ms, direction, type, size], in seq order, after those held.
    append(rows) {
      for (const row of rows) {
        if (this.seq.length && row[0] <= this.lastSeq) continue;
        const i = this.seq.length;
        this.seq.push(row[0]);
        this.t.push(row[1]);
        this.dir.push(row[2]);
        const type = this._typeId(row[3]);
        this.type.push(type);
        this.size.push(row[4]);
        if (this.accepted[type]) this.filtered.push(i);
      }
      this._relayout();
    }

    setFilter(text) {
      try {
        this.filter = R.glob.parseTypeFilter(text);
        this.errorEl.hidden = true;
      } catch (error) {
        this.errorEl.textContent = error.message;
        this.errorEl.hidden = false;
        return;
      }
      this.accepted = this.typeNames.map((name) => this.filter.accepts(name));
      this.filtered = [];
      for (let i = 0; i < this.type.length; i++) if (this.accepted[this.type[i]]) this.filtered.push(i);
      this.currentPos = -1;
      this._relayout();
      this.box.scrollTop = 0;
    }

    _relayout() {
      this.layout = [];
      for (const [index, extra] of this.expanded) {
        const k = U.lastAtOrBefore(this.filtered, index);
        if (k >= 0 && this.filtered[k] === index) this.layout.push([k, extra]);
      }
      this.layout.sort((a, b) => a[0] - b[0]);
      let total = this.filtered.length * ROW;
      for (const [, extra] of this.layout) total += extra;
      this.spacer.style.height = total + "px";
      const n = this.filtered.length;
      this.countEl.textContent = this.filter.everything
        ? "(" + n.toLocaleString("en") + ")"
        : "(" + n.toLocaleString("en") + " of " + this.count.toLocaleString("en") + ")";
      this._render();
    }

    _top(k) {
      let y = k * ROW;
      for (const [at, extra] of this.layout) {
        if (at >= k) break;
        y += extra;
      }
      return y;
    }

    _posAt(y) {
      let lo = 0;
      let hi = this.filtered.length - 1;
      let found = 0;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (this._top(mid) <= y) {
          found = mid;
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      return found;
    }

    render() {
      const top = this.box.scrollTop;
      const bottom = top + this.box.clientHeight;
      this.spacer.textContent = "";
      if (!this.filtered.length) return;
      const first = this._posAt(top);
      const last = Math.min(this.filtered.length - 1, this._posAt(bottom) + 1);
      for (let k = first; k <= last; k++) this.spacer.append(this._row(k));
    }

    _row(k) {
      const i = this.filtered[k];
      const seq = this.seq[i];
      const type = this.typeNames[this.type[i]];
      const direction = this.dir[i];
      const extra = this.expanded.get(i);
      const row = el("div", {
        class: "ev-row" + (k === this.currentPos ? " current" : ""),
        dataset: { seq, type, direction, pos: k },
      }, el("div", { class: "ev-head" },
        el("span", { class: "t", text: U.clock(this.t[i], 3) }),
        el("span", { class: "dir " + direction, text: direction === "client" ? "→" : "←", title: direction === "client" ? "client → server" : "server → client" }),
        el("span", { class: "type", text: type || "(no type)" }),
        el("span", { class: "size", text: U.bytes(this.size[i]) })));
      row.style.top = this._top(k) + "px";
      row.style.height = ROW + (extra || 0) + "px";
      row.firstChild.addEventListener("click", () => this._clicked(i));
      if (extra != null) {
        const pre = row.appendChild(el("pre", { class: "ev-json", text: this.pretty.get(seq) || "loading…" }));
        pre.addEventListener("click", (event) => event.stopPropagation());
      }
      return row;
    }

    async _clicked(i) {
      this.dispatchEvent(new CustomEvent("seek", { detail: { ms: this.t[i], seq: this.seq[i] } }));
      if (this.expanded.has(i)) {
        this.expanded.delete(i);
        this._relayout();
        return;
      }
      const seq = this.seq[i];
      this.expanded.set(i, 6 * JSON_LINE);
      this._relayout();
      if (!this.pretty.has(seq)) {
        let text;
        try {
          text = shown(await this.source.payload(seq), this.size[i]);
        } catch (error) {
          text = "could not load this frame: " + error.message;
        }
        this.pretty.set(seq, text);
      }
      if (this.expanded.has(i)) {
        const lines = Math.min(MAX_JSON_LINES, this.pretty.get(seq).split("\n").length);
        this.expanded.set(i, lines * JSON_LINE + 14);
        this._relayout();
      }
    }

    // Highlights the frame at the playhead and, unless the reader is scrolling, shows it.
    // Half a millisecond of slack: a line's start is often the time of the frame itself.
    follow(nowMs) {
      const index = U.lastAtOrBefore(this.t, nowMs + FOLLOW_SLACK_MS);
      const k = index < 0 ? -1 : U.lastAtOrBefore(this.filtered, index);
      if (k !== this.currentPos) {
        this.currentPos = k;
        this._render();
      }
      if (k < 0 || !this.followBox.checked) return;
      if (performance.now() - this.userScrolledAt < USER_SCROLL_MS) return;
      const y = this._top(k);
      const top = this.box.scrollTop;
      const height = this.box.clientHeight;
      if (y < top || y + ROW > top + height) this.box.scrollTop = Math.max(0, y - height / 2);
    }
  }

  function shown(payload, size) {
    if (payload == null) return "(no JSON: a binary or unreadable frame of " + U.bytes(size) + ")";
    try {
      return JSON.stringify(JSON.parse(payload), null, 2);
    } catch (error) {
      return payload;
    }
  }

  R.EventLog = EventLog;
})(window.Rtrec = window.Rtrec || {});
