// The transcript: the conversation's items in order, each line seeking to where it was said.
(function (R) {
  "use strict";
  const U = R.util;
  const el = U.el;

  class Transcript {
    constructor(list) {
      this.list = list;
      this.lines = [];
      this.current = null;
    }

    setModel(model) {
      this.list.textContent = "";
      this.lines = [];
      for (const line of model.transcript) {
        const kind = line.role || (line.type && line.type.startsWith("function") ? "tool" : "item");
        const notes = [];
        if (line.truncated_ms != null) notes.push("cut at " + Math.round(line.truncated_ms) + " ms");
        if (line.status && line.status !== "completed") notes.push(line.status);
        if (line.deleted) notes.push("deleted");
        const node = el("li", {
          class: "line " + kind + (line.deleted ? " deleted" : ""),
          dataset: { itemId: line.item_id, start: line.start_ms == null ? "" : line.start_ms },
          title: line.start_ms == null ? "" : "Play from " + U.clock(line.start_ms, 2),
        },
        el("span", { class: "when", text: U.clock(line.start_ms, 1) }),
        el("span", { class: "who", text: line.speaker }),
        el("span", { class: "what" }, line.text || "",
          notes.length ? el("span", { class: "note", text: notes.join(", ") }) : null));
        if (line.start_ms != null) {
          node.addEventListener("click", () => {
            this.list.dispatchEvent(new CustomEvent("seek", { detail: { ms: line.start_ms, itemId: line.item_id } }));
          });
        }
        this.list.append(node);
        this.lines.push({ node, start: line.start_ms });
      }
      this.current = null;
    }

    // Marks the last line that started at or before the playhead.
    follow(nowMs) {
      let found = null;
      for (const line of this.lines) {
        if (line.start != null && line.start <= nowMs + 1) found = line;
      }
      if (found === this.current) return;
      if (this.current) this.current.node.classList.remove("current");
      this.current = found;
      if (found) found.node.classList.add("current");
    }
  }

  R.Transcript = Transcript;
})(window.Rtrec = window.Rtrec || {});
