// The player of the as-heard mix: the user's track on the left, the assistant's on the right
// (two <audio> elements panned apart through Web Audio, the user's the clock the other
// follows), and a silent clock beyond the sound (a session with no audio, or the stretch
// of a call after its last sound), so the playhead moves over the whole call.  Emits
// "time" while playing and on every seek, "state" when it starts or stops.
(function (R) {
  "use strict";

  const SYNC_S = 0.04; // the assistant's track is put back on the user's beyond this

  class Player extends EventTarget {
    constructor(userAudio, assistantAudio, extentMs) {
      super();
      this.audio = userAudio; // the clock
      this.follower = assistantAudio;
      this.audios = [userAudio, assistantAudio];
      this.extentMs = extentMs;
      this.hasAudio = false;
      this._graph = null;
      this._clockMs = 0; // position when the audio is not what plays
      this._clockStarted = null; // performance.now() when the silent clock started
      this._clockFrom = 0;
      this._looping = false;
      this._loop = this._loop.bind(this);
      userAudio.addEventListener("play", () => this._changed());
      userAudio.addEventListener("pause", () => this._changed());
      userAudio.addEventListener("seeked", () => this._emitTime());
      userAudio.addEventListener("ended", () => this._audioEnded());
    }

    // urls: {user, assistant}, or null for none.
    setSources(urls) {
      const position = this.currentMs;
      if (!urls) {
        this.hasAudio = false;
        for (const audio of this.audios) audio.removeAttribute("src");
        return Promise.resolve();
      }
      const loaded = (audio, url) => new Promise((resolve) => {
        audio.addEventListener("loadedmetadata", () => resolve(true), { once: true });
        audio.addEventListener("error", () => resolve(false), { once: true });
        audio.src = url;
      });
      const both = [loaded(this.audio, urls.user), loaded(this.follower, urls.assistant)];
      return Promise.all(both).then((ok) => {
        this.hasAudio = ok[0] && ok[1];
        if (this.hasAudio && position > 0) this.seekMs(position);
      });
    }

    get audioMs() {
      return this.hasAudio && isFinite(this.audio.duration) ? this.audio.duration * 1000 : 0;
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
        for (const audio of this.audios) audio.currentTime = target / 1000;
        if (wasPlaying && this.audio.paused) this._playAudio();
      } else {
        this._pauseAudio();
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
        for (const audio of this.audios) audio.currentTime = at / 1000;
        this._playAudio();
      } else {
        this._startClock(at);
      }
      this._changed();
    }

    pause() {
      const at = this.currentMs;
      this._stopClock();
      this._clockMs = at;
      this._pauseAudio();
      this._changed();
    }

    toggle() {
      if (this.playing) this.pause();
      else this.play();
    }

    // User left, assistant right.  Made on the first play (a user's gesture lets audio
    // start); without Web Audio both tracks still play, unpanned.
    _route() {
      if (this._graph !== null) return;
      this._graph = false;
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      try {
        const context = new Context();
        this.audios.forEach((audio, i) => {
          const pan = context.createStereoPanner();
          pan.pan.value = i === 0 ? -1 : 1;
          context.createMediaElementSource(audio).connect(pan).connect(context.destination);
        });
        this._graph = context;
      } catch (error) {
        console.warn("rtrec view: playing the tracks unpanned (" + error.message + ")");
      }
    }

    _playAudio() {
      this._route();
      if (this._graph) this._graph.resume().catch(() => {});
      for (const audio of this.audios) audio.play().catch(() => {});
    }

    _pauseAudio() {
      for (const audio of this.audios) if (!audio.paused) audio.pause();
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
      // The sound is over; the call may go on in silence (events after the last sound).
      const end = this.audioMs;
      this.follower.pause();
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
      if (this.hasAudio && !this.audio.paused && !this.follower.seeking) {
        const drift = this.follower.currentTime - this.audio.currentTime;
        if (Math.abs(drift) > SYNC_S) this.follower.currentTime = this.audio.currentTime;
      }
      this._emitTime();
      this._kick();
    }
  }

  R.Player = Player;
})(window.Rtrec = window.Rtrec || {});
