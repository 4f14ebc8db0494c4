-- Protocols: one log for the OpenAI Realtime API, OpenAI GPT-Live and Google Gemini Live.
--
-- `session.protocol` is the family a recorder recognised from the request path
-- (realtime | live | gemini), NULL where the path said nothing; the projector then
-- recognises it from the first frames and keeps its answer in projected_session.
-- Projections gain what the provider reports (its own session id, GPT-Live's billed
-- seconds) and turns measured from other anchors than a response's events (GPT-Live's
-- transcript deltas on the session clock).  The projector version changes with this
-- migration, so every projection is rebuilt on the next read.
--
-- Audio of GPT-Live sessions is compacted like Realtime's; Gemini's may use the
-- URL-safe base64 alphabet (event.flags & 8).

ALTER TABLE session ADD COLUMN protocol TEXT;

ALTER TABLE projected_session ADD COLUMN protocol TEXT;
ALTER TABLE projected_session ADD COLUMN provider_session_id TEXT;
ALTER TABLE projected_session ADD COLUMN usage_seconds REAL;
ALTER TABLE projected_session ADD COLUMN closed_reason TEXT;  -- GPT-Live session.closed reason
-- The sessions view finds a GPT-Live sideband's primary by its provider session id.
CREATE INDEX projected_session_provider ON projected_session (provider_session_id);

ALTER TABLE projected_turn ADD COLUMN end_kind TEXT;        -- what ended the user's speech
ALTER TABLE projected_turn ADD COLUMN first_audio_ns INTEGER; -- when not a response's
ALTER TABLE projected_turn ADD COLUMN audio_source TEXT;    -- what marked the first audio

-- GPT-Live sideband (…/live/sessions/{id}/attach) and fork (…/live/sessions/{id}/fork)
-- connections name in their path the provider session they belong to; the sessions
-- view links them to that session when the recorder saw it too.
CREATE VIEW live_links AS
SELECT id AS session_id,
       CASE WHEN rest LIKE '%/attach' THEN 'sideband' ELSE 'fork' END AS link_kind,
       substr(rest, 1, instr(rest, '/') - 1) AS attached_to
FROM (SELECT id, substr(path, instr(path, '/live/sessions/') + 15) AS rest
      FROM session
      WHERE path LIKE '%/live/sessions/%/attach' OR path LIKE '%/live/sessions/%/fork')
WHERE instr(rest, '/') > 1;

DROP VIEW sessions;

CREATE VIEW sessions AS
SELECT s.id AS session_id,
       s.uuid,
       s.started_at,
       s.ended_at,
       s.end_reason,
       coalesce(s.model, json_extract(p.config, '$.model')) AS model,
       coalesce((SELECT max(e.seq) + 1 FROM event e WHERE e.session_id = s.id), 0) AS event_count,
       coalesce((s.ended_ns - s.started_ns) / 1e6,
                (SELECT e.t_ns / 1e6 FROM event e WHERE e.session_id = s.id
                 ORDER BY e.seq DESC LIMIT 1)) AS duration_ms,
       s.source,
       s.upstream,
       s.path,
       s.query,
       s.client_addr,
       s.subprotocol,
       s.refused_status,
       s.client_close_code,
       s.client_close_reason,
       s.upstream_close_code,
       s.upstream_close_reason,
       s.parent_id,
       p.audio_in_ms,
       p.audio_out_ms,
       json_extract(p.config, '$.voice') AS voice,
       json_extract(p.config, '$.input_format') AS input_format,
       json_extract(p.config, '$.output_format') AS output_format,
       CAST(substr(json_extract(p.config, '$.input_format'),
                   instr(json_extract(p.config, '$.input_format'), '@') + 1) AS INTEGER) AS input_rate,
       CAST(substr(json_extract(p.config, '$.output_format'),
                   instr(json_extract(p.config, '$.output_format'), '@') + 1) AS INTEGER) AS output_rate,
       json_extract(p.config, '$.turn_detection.type') AS turn_detection,
       json_extract(p.config, '$.transcription_model') AS transcription_model,
       coalesce(s.protocol, p.protocol) AS protocol,
       json_extract(p.config, '$.protocol_version') AS protocol_version,
       p.provider_session_id,
       p.usage_seconds,
       p.closed_reason,
       l.link_kind,
       l.attached_to,
       CASE WHEN l.link_kind = 'sideband' THEN
           (SELECT min(p2.session_id) FROM projected_session p2
            WHERE p2.provider_session_id = l.attached_to
              AND p2.session_id NOT IN (SELECT session_id FROM live_links))
       END AS primary_session_id,
       CASE WHEN l.link_kind = 'fork' THEN
           (SELECT min(p2.session_id) FROM projected_session p2
            WHERE p2.provider_session_id = l.attached_to AND p2.session_id != s.id)
       END AS forked_from_session_id,
       p.rate_limits,
       (SELECT count(*) FROM projected_item i
        WHERE i.session_id = s.id AND i.in_conversation AND NOT i.deleted) AS items,
       (SELECT count(*) FROM projected_response r WHERE r.session_id = s.id) AS responses,
       (SELECT sum(json_extract(r.usage, '$.input_tokens')) FROM projected_response r
        WHERE r.session_id = s.id) AS input_tokens,
       (SELECT sum(json_extract(r.usage, '$.output_tokens')) FROM projected_response r
        WHERE r.session_id = s.id) AS output_tokens,
       (SELECT sum(json_extract(r.usage, '$.total_tokens')) FROM projected_response r
        WHERE r.session_id = s.id) AS total_tokens,
       p.errors,
       p.unknown_events,
       p.last_seq + 1 AS projected_events
FROM session s
LEFT JOIN projected_session p ON p.session_id = s.id
LEFT JOIN live_links l ON l.session_id = s.id;

DROP VIEW turns;

CREATE VIEW turns AS
SELECT t.session_id,
       t.item_id,
       t.turn_index AS turn,
       t.input,
       t.end_ns / 1e6 AS speech_stopped_ms,
       t.ended_by,
       t.speech_started_ns / 1e6 AS speech_started_ms,
       t.committed_ns / 1e6 AS committed_ms,
       t.audio_start_ms,
       t.audio_end_ms,
       t.response_id,
       coalesce(t.first_audio_ns, r.first_audio_ns) / 1e6 AS first_audio_ms,
       r.first_text_ns / 1e6 AS first_text_ms,
       (coalesce(t.first_audio_ns, r.first_audio_ns, r.first_text_ns) - t.end_ns) / 1e6
           AS latency_ms,
       coalesce(t.audio_source,
                CASE WHEN r.first_audio_ns IS NOT NULL THEN 'audio_delta'
                     WHEN r.first_text_ns IS NOT NULL THEN 'text_delta' END) AS audio_source,
       t.first_response_id,
       t.responses,
       i.text
FROM projected_turn t
LEFT JOIN projected_response r ON r.session_id = t.session_id AND r.response_id = t.response_id
LEFT JOIN projected_item i ON i.session_id = t.session_id AND i.item_id = t.item_id;

DROP VIEW events;

CREATE VIEW events AS
SELECT e.session_id,
       e.seq,
       e.t_ns / 1e6 AS t_ms,
       e.direction,
       e.type,
       e.event_id,
       e.item_id,
       e.response_id,
       CASE
           WHEN e.audio IS NOT NULL
               THEN substr(e.frame, 1, e.audio_at - 1) || length(e.audio) || substr(e.frame, e.audio_at + 2)
           WHEN e.flags & 4 OR (e.flags & 1 AND e.type IS NULL) THEN NULL
           -- JSON in a binary frame (Gemini's server): its text
           WHEN e.flags & 1 THEN CAST(e.frame AS TEXT)
           -- audio frames kept whole (the writer could not prove a compact copy exact)
           WHEN e.type IN ('input_audio_buffer.append', 'session.input_audio.append')
                AND json_valid(e.frame)
               THEN json_set(e.frame, '$.audio', length(json_extract(e.frame, '$.audio')) / 4 * 3 - (json_extract(e.frame, '$.audio') LIKE '%==') - (json_extract(e.frame, '$.audio') LIKE '%='))
           WHEN e.type IN ('response.output_audio.delta', 'response.audio.delta',
                           'session.output_audio.delta') AND json_valid(e.frame)
               THEN json_set(e.frame, '$.delta', length(json_extract(e.frame, '$.delta')) / 4 * 3 - (json_extract(e.frame, '$.delta') LIKE '%==') - (json_extract(e.frame, '$.delta') LIKE '%='))
           ELSE e.frame
       END AS payload,
       CASE
           WHEN e.audio IS NOT NULL THEN length(CAST(e.frame AS BLOB)) + (length(e.audio) + 2) / 3 * 4
           ELSE length(CAST(e.frame AS BLOB))
       END AS frame_size,
       e.wall_ns,
       e.flags & 1 = 1 AS binary,
       e.flags & 2 = 2 AS redacted
FROM event e;

-- A function call answered in place (Gemini's toolResponse names the call by its id;
-- there is no output item) keeps its output on the call's own item, and the time of
-- the answer in client_ns.
--
-- GPT-Live's tool calls: a function call from a delegated Responses stream carries its
-- own output (the client's response.item.create) and answer time (client_ns); a
-- delegation (kept outside the conversation) is a call the client answers with
-- commentary, thinking or instructions.
DROP VIEW tool_calls;

CREATE VIEW tool_calls AS
SELECT c.session_id,
       c.type AS kind,
       c.call_id,
       c.name,
       c.arguments,
       c.item_id,
       c.response_id,
       c.done_ns / 1e6 AS called_ms,
       o.item_id AS output_item_id,
       coalesce(o.output,
                CASE WHEN c.type = 'mcp_call' OR o.item_id IS NULL THEN c.output END) AS output,
       coalesce(o.client_ns, o.added_ns,
                CASE WHEN o.item_id IS NULL AND c.output IS NOT NULL
                          AND c.type IN ('function_call', 'delegation') THEN c.client_ns END)
           / 1e6 AS answered_ms,
       (coalesce(o.client_ns, o.added_ns,
                 CASE WHEN o.item_id IS NULL AND c.output IS NOT NULL
                           AND c.type IN ('function_call', 'delegation') THEN c.client_ns END)
        - c.done_ns) / 1e6 AS answer_ms
FROM projected_item c
LEFT JOIN projected_item o
       ON o.session_id = c.session_id AND o.type = 'function_call_output'
      AND o.call_id = c.call_id AND o.in_conversation AND c.type = 'function_call'
WHERE (c.type IN ('function_call', 'mcp_call') AND c.in_conversation) OR c.type = 'delegation';
