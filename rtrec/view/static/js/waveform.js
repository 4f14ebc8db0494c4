// Waveforms from the precomputed peaks (one byte per channel per bucket, computed in Python
// from the same mix the player plays).  A pyramid of maxima makes each redraw cost one
// look-up or two per pixel column, however long the call and however far zoomed out.
(function (R) {
  "use strict";

  class Peaks {
    constructor(bytes, bucketMs) {
      this.bucketMs = bucketMs;
      this.levels = [bytes];
      let level = bytes;
      while (level.length > 1) {
        const next = new Uint8Array(Math.ceil(level.length / 2));
        for (let i = 0; i < next.length; i++) {
          const a = level[2 * i];
          const b = 2 * i + 1 < level.length ? level[2 * i + 1] : 0;
          next[i] = a > b ? a : b;
        }
        this.levels.push(next);
        level = next;
      }
      this.max = level.length ? Math.max(1, level[0]) : 1;
    }

    // Largest peak between two times, at the coarsest level finer than msPerPx.
    peakBetween(t0, t1, msPerPx) {
      let k = Math.floor(Math.log2(Math.max(1, msPerPx / this.bucketMs)));
      k = Math.max(0, Math.min(k, this.levels.length - 1));
      const level = this.levels[k];
      const span = this.bucketMs * Math.pow(2, k);
      const first = Math.max(0, Math.floor(t0 / span));
      const last = Math.min(level.length - 1, Math.max(first, Math.ceil(t1 / span) - 1));
      let peak = 0;
      for (let i = first; i <= last; i++) if (level[i] > peak) peak = level[i];
      return peak;
    }
  }

  // Sizes a canvas to its box in device pixels and clears it.
  function clearCanvas(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    canvas.getContext("2d").clearRect(0, 0, width, height);
  }

  // Draws one channel's waveform over what the canvas holds, covering [startMs, endMs],
  // mirrored around `middle` (a fraction of the height; the lanes keep their foot for spans).
  function drawWave(canvas, peaks, startMs, endMs, color, middle) {
    const width = canvas.width;
    const height = canvas.height;
    const ctx = canvas.getContext("2d");
    if (!peaks) return;
    const msPerPx = (endMs - startMs) / width;
    const mid = Math.round(height * (middle || 0.36));
    const reach = mid - 2;
    ctx.fillStyle = color;
    for (let x = 0; x < width; x++) {
      const t0 = startMs + x * msPerPx;
      if (t0 < 0) continue;
      const peak = peaks.peakBetween(t0, t0 + msPerPx, msPerPx);
      if (!peak) continue;
      // Square root: quiet speech stays visible beside loud speech.
      const h = Math.max(1, Math.sqrt(peak / peaks.max) * reach);
      ctx.fillRect(x, mid - h, 1, 2 * h);
    }
  }

  R.waveform = { Peaks, clearCanvas, drawWave };
})(window.Rtrec = window.Rtrec || {});
