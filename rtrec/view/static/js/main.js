// The session page: loads the model, the mix and the event log from the page's source, wires
// the player to the timeline, the transcript, the event log and the charts, and (rtrec ui)
// follows a session that is still being recorded.
(function (R) {
  "use strict";
  const U = R.util;

  const POLL_MS = 1500;
  const THRESHOLD_KEY = "rtrec.latencyThresholdMs";

  function $(id) {
    return document.getElementById(id);
  }

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
  }

  async function start() {
    const source = R.data.pageSource();
    let model = await source.model();
    const player = new R.Player($("audio-user"), $("audio-assistant"), model.extent_ms);
    const timeline = new R.Timeline($("timeline"), player);
    const transcript = new R.Transcript($("transcript"));
    const log = new R.EventLog({
      box: $("event-log"), count: $("event-count"), error: $("filter-error"), follow: $("follow"),
    }, source);
    const charts = new R.Charts($("chart-latency"), $("chart-tokens"), (ms) => seek(ms));
    const page = { player, timeline, log, transcript, charts, model, source, readyMs: null };
    window.rtrecPage = page;
    if (source.mode === "server") $("back").hidden = false;

    function seek(ms) {
      player.seekMs(ms);
      timeline.reveal(ms);
    }

    let audioKey; // the sound loaded: a mix's key, or why there is none
    async function loadSound(next) {
      const key = next.audio ? next.audio.key || "inline" : "no audio: " + next.mix_state;
      if (key === audioKey) return;
      audioKey = key;
      const note = $("audio-note");
      if (!next.audio) {
        timeline.setPeaks(null);
        await player.setSources(null);
        const pending = next.mix_state === "pending";
        note.textContent = pending ? "preparing the audio…" : "no audio in this session";
        document.documentElement.dataset.audio = pending ? "pending" : "none";
        return;
      }
      const bucketMs = (next.audio.bucket_frames / next.audio.rate) * 1000;
      const peaks = await source.peaks(next);
      timeline.setPeaks(peaks && {
        user: new R.waveform.Peaks(peaks.user, bucketMs),
        assistant: new R.waveform.Peaks(peaks.assistant, bucketMs),
      });
      if (!player.playing) await player.setSources(await source.audioUrls(next));
      note.textContent = "";
      document.documentElement.dataset.audio = "ready";
    }

    function apply(next) {
      model = next;
      page.model = next;
      player.extentMs = next.extent_ms;
      R.renderHeader(next);
      timeline.setModel(next);
      transcript.setModel(next);
      charts.setModel(next);
      $("play").disabled = false;
    }

    async function loadEvents() {
      for (;;) {
        const chunk = await source.events(model, log.lastSeq);
        log.append(chunk.rows);
        if (!chunk.more) return;
      }
    }

    // -- wiring ---------------------------------------------------------------------

    const threshold = $("threshold");
    threshold.value = U.storedNumber(THRESHOLD_KEY, Number(threshold.value));
    const setThreshold = () => {
      const value = Number(threshold.value);
      if (!isFinite(value) || value < 0) return;
      U.storeNumber(THRESHOLD_KEY, value);
      timeline.setThreshold(value);
      charts.setThreshold(value);
    };
    threshold.addEventListener("input", setThreshold);

    for (const emitter of [$("timeline"), $("transcript"), log]) {
      emitter.addEventListener("seek", (event) => seek(event.detail.ms));
    }
    const onTime = U.perFrame(() => {
      const now = player.currentMs;
      if (player.playing) timeline.reveal(now);
      timeline.renderPlayhead();
      transcript.follow(now);
      log.follow(now);
      $("clock").textContent = U.clock(now, 1) + " / " + U.clock(model.extent_ms, 1);
    });
    player.addEventListener("time", onTime);
    player.addEventListener("state", () => {
      $("play").textContent = player.playing ? "❚❚" : "▶";
    });
    $("play").addEventListener("click", () => player.toggle());
    $("zoom-in").addEventListener("click", () => timeline.zoom(0.5, player.currentMs));
    $("zoom-out").addEventListener("click", () => timeline.zoom(2, player.currentMs));
    $("zoom-fit").addEventListener("click", () => timeline.fit());

    let filterTimer = null;
    $("event-filter").addEventListener("input", (event) => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => log.setFilter(event.target.value), 120);
    });

    document.addEventListener("keydown", (event) => {
      if (typing(event.target) || event.altKey || event.ctrlKey || event.metaKey) return;
      const inLog = event.target === $("event-log");
      const now = player.currentMs;
      const span = timeline.view.end - timeline.view.start;
      switch (event.key) {
        case " ":
          event.preventDefault();
          player.toggle();
          break;
        case "ArrowLeft":
        case "ArrowRight": {
          event.preventDefault();
          const step = (event.shiftKey ? 10000 : 1000) * (event.key === "ArrowLeft" ? -1 : 1);
          seek(now + step);
          break;
        }
        case "ArrowUp":
        case "ArrowDown": {
          if (inLog) return;
          event.preventDefault();
          const starts = model.turns.map((t) => turnStart(model, t)).filter((v) => v != null).sort((a, b) => a - b);
          const target = event.key === "ArrowUp"
            ? starts.filter((v) => v < now - 300).pop()
            : starts.find((v) => v > now + 1);
          if (target != null) seek(target);
          break;
        }
        case "w": case "W": timeline.zoom(0.7, now); break;
        case "s": case "S": timeline.zoom(1 / 0.7, now); break;
        case "a": case "A": timeline.pan(-span * 0.2); break;
        case "d": case "D": timeline.pan(span * 0.2); break;
        default: return;
      }
    });

    // -- loading ------------------------------------------------------------------

    apply(model);
    setThreshold();
    await Promise.all([loadSound(model), loadEvents()]);
    onTime();
    requestAnimationFrame(() => {
      page.readyMs = performance.now(); // since navigation began: parsing the file included
      document.documentElement.dataset.state = "ready";
    });

    if (source.mode !== "server") return;
    let version = versionOf(model);
    const poll = async () => {
      try {
        const next = await source.model();
        if (versionOf(next) !== version) {
          version = versionOf(next);
          apply(next);
          await loadEvents();
        }
        await loadSound(next);
        onTime();
        const settled = !next.session.live && (next.audio || next.mix_state !== "pending");
        if (!settled) setTimeout(poll, POLL_MS);
      } catch (error) {
        $("audio-note").textContent = "lost the server (" + error.message + "); retrying";
        setTimeout(poll, POLL_MS * 4);
      }
    };
    if (model.session.live || model.mix_state === "pending") setTimeout(poll, POLL_MS);
  }

  // Hover text for anything with data-tip (spans, marks): names, arguments, figures.
  function tooltips() {
    const tip = $("tooltip");
    let over = null;
    document.addEventListener("mouseover", (event) => {
      over = event.target.closest ? event.target.closest("[data-tip]") : null;
      tip.hidden = !over;
      if (over) tip.textContent = over.dataset.tip;
    });
    document.addEventListener("mousemove", (event) => {
      if (!over) return;
      const x = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
      const y = event.clientY + 18 + tip.offsetHeight > window.innerHeight
        ? event.clientY - tip.offsetHeight - 10 : event.clientY + 18;
      tip.style.left = Math.max(4, x) + "px";
      tip.style.top = Math.max(4, y) + "px";
    });
  }

  function versionOf(model) {
    const s = model.session;
    return [s.event_count, s.projected_events, s.ended_at, model.audio && model.audio.key].join("|");
  }

  function turnStart(model, turn) {
    const line = model.transcript.find((l) => l.item_id === turn.item_id);
    return line && line.start_ms != null ? line.start_ms : turn.from_ms;
  }

  tooltips();
  start().catch((error) => {
    console.error("rtrec view: " + (error && error.stack ? error.stack : error));
    document.documentElement.dataset.state = "failed";
  });
})(window.Rtrec = window.Rtrec || {});
