// The header: what the call was (model, protocol, formats, voice, tools, end, duration,
// usage, latency), each figure as the model states it.
(function (R) {
  "use strict";
  const U = R.util;
  const el = U.el;

  function renderHeader(model) {
    const session = model.session;
    document.getElementById("title").textContent = "Session " + session.session_id;
    document.getElementById("subtitle").textContent =
      (session.uuid || "") + (session.started_at ? " · started " + session.started_at : "");
    document.getElementById("live-badge").hidden = !session.live;
    const behind = session.event_count - session.projected_events;
    const badge = document.getElementById("behind-badge");
    badge.hidden = !(behind > 0);
    badge.textContent = behind > 0
      ? "the views are " + behind.toLocaleString("en") + " events behind the log"
      : "";
    const facts = document.getElementById("facts");
    facts.textContent = "";
    for (const fact of model.facts) {
      facts.append(el("div", { dataset: { fact: fact.key } },
        el("dt", { text: fact.label }),
        el("dd", { text: fact.value, title: fact.value })));
    }
  }

  R.renderHeader = renderHeader;
})(window.Rtrec = window.Rtrec || {});
