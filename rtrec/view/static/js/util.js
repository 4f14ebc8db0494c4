// Small helpers shared by the page's modules: formatting, DOM, bytes.
(function (R) {
  "use strict";

  function pad(n, width) {
    return String(n).padStart(width, "0");
  }

  // 83.4 s -> "1:23.4"; decimals digits after the seconds; hours when needed.
  function clock(ms, decimals) {
    if (ms == null || !isFinite(ms)) return "-";
    const d = decimals == null ? 1 : decimals;
    const negative = ms < 0;
    let rest = Math.abs(ms) / 1000;
    const hours = Math.floor(rest / 3600);
    rest -= hours * 3600;
    const minutes = Math.floor(rest / 60);
    rest -= minutes * 60;
    let seconds = rest.toFixed(d);
    if (Number(seconds) >= 60) seconds = (59.999).toFixed(d);
    const secText = d ? seconds.padStart(d + 3, "0") : seconds.padStart(2, "0");
    const head = hours ? hours + ":" + pad(minutes, 2) : String(minutes);
    return (negative ? "-" : "") + head + ":" + secText;
  }

  function bytes(n) {
    if (n == null) return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  // el("div", {class: "x", dataset: {id: 1}, onclick: f}, "text", child)
  function el(tag, attrs) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const key of Object.keys(attrs)) {
        const value = attrs[key];
        if (value == null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "dataset") Object.assign(node.dataset, value);
        else if (key === "text") node.textContent = value;
        else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : value);
      }
    }
    for (let i = 2; i < arguments.length; i++) {
      const child = arguments[i];
      if (child == null) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function base64Bytes(text) {
    if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text.trim());
    const binary = atob(text.trim());
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  // The browser's own gzip, no library: Chromium 80+, Firefox 113+.
  async function gunzipText(data) {
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("gzip"));
    return await new Response(stream).text();
  }

  // Index of the last element <= x in a sorted array-like (-1 if none).
  function lastAtOrBefore(sorted, x) {
    let lo = 0;
    let hi = sorted.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= x) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  function clamp(x, lo, hi) {
    return Math.min(hi, Math.max(lo, x));
  }

  // Calls fn at most once per animation frame, with the latest arguments.
  function perFrame(fn) {
    let pending = false;
    let args = [];
    return function () {
      args = arguments;
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        fn.apply(null, args);
      });
    };
  }

  function storedNumber(key, fallback) {
    try {
      const value = Number(localStorage.getItem(key));
      return localStorage.getItem(key) != null && isFinite(value) ? value : fallback;
    } catch (e) {
      return fallback; // file:// pages may have no storage
    }
  }

  function storeNumber(key, value) {
    try {
      localStorage.setItem(key, String(value));
    } catch (e) {
      /* no storage: the setting lasts as long as the page */
    }
  }

  R.util = {
    clock, bytes, el, base64Bytes, gunzipText, lastAtOrBefore, clamp, perFrame,
    storedNumber, storeNumber,
  };
})(window.Rtrec = window.Rtrec || {});
