// Where the page's data comes from: inline (rtrec view: everything in this file) or the
// server (rtrec ui: fetched, and polled while the session is still recording).  Both give
// the same shapes: the model (rtrec/view/model.py), peaks, an audio URL, event rows
// [seq, t_ms, direction, type name, size] and payloads by seq.
(function (R) {
  "use strict";
  const U = R.util;

  function readJson(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function readBlob(id) {
    const node = document.getElementById(id);
    return node ? U.base64Bytes(node.textContent) : null;
  }

  const DIRECTIONS = ["client", "server"];

  class InlineSource {
    constructor() {
      this.mode = "inline";
      this.live = false;
      this._payloadText = null;
      this._payloadStarts = null;
      this._seqIndex = null;
    }

    async model() {
      return readJson("rtrec-model");
    }

    async peaks() {
      const user = readBlob("rtrec-peaks-user");
      const assistant = readBlob("rtrec-peaks-assistant");
      return user && assistant ? { user, assistant } : null;
    }

    // Blob URLs of the user's and the assistant's tracks.
    async audioUrls(model) {
      if (!model.audio) return null;
      const urls = {};
      for (const track of model.audio.tracks) {
        const node = document.getElementById("rtrec-audio-" + track);
        const blob = new Blob([U.base64Bytes(node.textContent)], { type: node.dataset.mime });
        urls[track] = URL.createObjectURL(blob);
      }
      return urls;
    }

    // All rows at once (the file holds them all).
    async events(model) {
      const node = document.getElementById("rtrec-events");
      if (!node) return { rows: [], more: false };
      const packed = JSON.parse(await U.gunzipText(U.base64Bytes(node.textContent)));
      const types = model.events.types;
      const rows = new Array(packed.length);
      let seq = 0;
      let micros = 0;
      for (let i = 0; i < packed.length; i++) {
        const r = packed[i];
        seq += r[0];
        micros += r[1];
        rows[i] = [seq, micros / 1000, DIRECTIONS[r[2]], types[r[3]], r[4]];
      }
      this._seqIndex = new Map();
      for (let i = 0; i < rows.length; i++) this._seqIndex.set(rows[i][0], i);
      return { rows, more: false };
    }

    async payload(seq) {
      if (this._payloadText == null) {
        const node = document.getElementById("rtrec-payloads");
        this._payloadText = node ? await U.gunzipText(U.base64Bytes(node.textContent)) : "";
        const starts = [0];
        const text = this._payloadText;
        for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) {
          starts.push(at + 1);
        }
        this._payloadStarts = starts;
      }
      const i = this._seqIndex ? this._seqIndex.get(seq) : undefined;
      if (i == null || i + 1 >= this._payloadStarts.length) return null;
      const line = this._payloadText.slice(this._payloadStarts[i], this._payloadStarts[i + 1] - 1);
      return JSON.parse(line);
    }
  }

  class ServerSource {
    constructor(source) {
      this.mode = "server";
      this.base = source.base;
      this.live = true;
    }

    async _json(path) {
      const response = await fetch(this.base + path, { credentials: "same-origin" });
      if (!response.ok) throw new Error(path + ": HTTP " + response.status);
      return await response.json();
    }

    async model() {
      return await this._json("/model");
    }

    async peaks(model) {
      if (!model.audio) return null;
      const found = await this._json("/peaks?key=" + encodeURIComponent(model.audio.key));
      return { user: U.base64Bytes(found.user), assistant: U.base64Bytes(found.assistant) };
    }

    async audioUrls(model) {
      if (!model.audio) return null;
      const urls = {};
      const key = encodeURIComponent(model.audio.key);
      for (const track of model.audio.tracks) {
        urls[track] = this.base + "/audio?key=" + key + "&track=" + track;
      }
      return urls;
    }

    async events(model, afterSeq) {
      return await this._json("/events?after=" + (afterSeq == null ? -1 : afterSeq));
    }

    async payload(seq) {
      return (await this._json("/payload?seq=" + seq)).payload;
    }
  }

  function pageSource() {
    const source = readJson("rtrec-source") || { mode: "inline" };
    return source.mode === "server" ? new ServerSource(source) : new InlineSource();
  }

  R.data = { pageSource };
})(window.Rtrec = window.Rtrec || {});
