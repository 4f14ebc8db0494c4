// The player: the <audio> element with the as-heard mix, and a silent clock beyond it (a
// session with no audio, or the stretch of a call after its last sound), so that the
// playhead always moves over the whole call.  Emits "time" while playing and on every seek.
(function (R) {
  "use strict";

  class Player extends EventTarget {
    constructor(audio, extentMs) {
      super();
      this.audio = audio;
      this.extentMs = extentMs;
      this.hasAudio = false;
      this._clockMs = 0; // position when the audio is not what plays
      this._clockStarted = null; // performance.now() when the silent clock started
      this._clockFrom = 0;
      this._looping = false;
      this._loop = this._loop.bind(this);
      audio.addEventListener("play", () => this._changed());
      audio.addEventListener("pause", () => this._changed());
      audio.addEventListener("seeked", () => this._emitTime());
      audio.addEventListener("ended", () => this._audioEnded());
    }

    setSource(url) {
      const position = this.currentMs;
      if (!url) {
        this.hasAudio = false;
        this.audio.removeAttribute("src");
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const ready = () => {
          this.hasAudio = true;
          this.audio.removeEventListener("loadedmetadata", ready);
          if (position > 0) this.seekMs(position);
          resolve();
        };
        this.audio.addEventListener("loadedmetadata", ready);
        this.audio.addEventListener("error", () => resolve(), { once: true });
        this.audio.src = url;
      });
    }

    get audioMs() {
      return this.hasAudio && isFinite(this.audio.duration) ? this.audio.duration * 1000 : 0;
    }

    get onAudio() {
      return this.hasAudio && this._clockStarted == null && this._clockMs < this.audioMs;
    }

    get playing() {
      return this._clockStarted != null || (this.hasAudio && !this.audio.paused);
    }

    get currentMs() {
      if (this._clockStarted != null) {
        const ms = this._clockFrom + (performance.now() - this._clockStarted);
        return Math.min(ms, this.extentMs);
      }
      if (this.hasAudio && this._clockMs < this.audioMs) return this.audio.currentTime * 1000;
      return this._clockMs;
    }

    seekMs(ms) {
      const target = Math.max(0, Math.min(ms, this.extentMs));
      const wasPlaying = this.playing;
      this._stopClock();
      this._clockMs = target;
      if (this.hasAudio && target < this.audioMs) {
        this.audio.currentTime = target / 1000;
        if (wasPlaying && this.audio.paused) this.audio.play().catch(() => {});
      } else {
        if (this.hasAudio && !this.audio.paused) this.audio.pause();
        if (wasPlaying) this._startClock(target);
      }
      this._emitTime();
    }

    play() {
      if (this.playing) return;
      let at = this.currentMs;
      if (at >= this.extentMs - 1) at = 0;
      this._clockMs = at;
      if (this.hasAudio && at < this.audioMs) {
        this.audio.currentTime = at / 1000;
        this.audio.play().catch(() => {});
      } else {
        this._startClock(at);
      }
      this._changed();
    }

    pause() {
      const at = this.currentMs;
      this._stopClock();
      this._clockMs = at;
      if (this.hasAudio && !this.audio.paused) this.audio.pause();
      this._changed();
    }

    toggle() {
      if (this.playing) this.pause();
      else this.play();
    }

    _startClock(from) {
      this._clockFrom = from;
      this._clockStarted = performance.now();
      this._kick();
    }

    _stopClock() {
      if (this._clockStarted != null) this._clockMs = this.currentMs;
      this._clockStarted = null;
    }

    _audioEnded() {
      // The mix is over; the call may go on in silence (events after the last sound).
      const end = this.audioMs;
      if (end < this.extentMs - 1) this._startClock(end);
      this._changed();
    }

    _changed() {
      this.dispatchEvent(new Event("state"));
      this._emitTime();
      if (this.playing) this._kick();
    }

    _kick() {
      if (this._looping) return;
      this._looping = true;
      requestAnimationFrame(this._loop);
    }

    _emitTime() {
      this.dispatchEvent(new Event("time"));
    }

    _loop() {
      this._looping = false;
      if (!this.playing) return;
      if (this._clockStarted != null && this.currentMs >= this.extentMs) {
        this._clockStarted = null;
        this._clockMs = this.extentMs;
        this._changed();
        return;
      }
      this._emitTime();
      this._kick();
    }
  }

  R.Player = Player;
})(window.Rtrec = window.Rtrec || {});
