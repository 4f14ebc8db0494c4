-- Projections: what the events of each session describe, rebuilt by rtrec's projector.
--
-- The projected_* tables are derived data.  They are written only by the projector
-- (rtrec/store/projection.py), caught up incrementally: projected_session.last_seq is
-- the checkpoint, updated in the same transaction as the rows it covers, and
-- `rtrec reproject` rebuilds them from the event log at any time.  Times are ns
-- since session start, like event.t_ns; the views give milliseconds.
--
-- Read the views (sessions, items, responses, turns, tool_calls, session_updates,
-- errors); the tables may change shape between versions of rtrec.  Like any SQL
-- view they have no inherent order: ORDER BY position, turn, created_ms, seq.

CREATE TABLE projected_session (
    session_id       INTEGER PRIMARY KEY REFERENCES session(id),
    last_seq         INTEGER NOT NULL,       -- checkpoint: events up to this seq are applied
    version          INTEGER NOT NULL,       -- projector version that wrote these rows
    events           INTEGER NOT NULL,
    config           TEXT,                   -- JSON: effective configuration, normalized
    audio_in_bytes   INTEGER NOT NULL,
    audio_in_ms      REAL NOT NULL,
    audio_out_bytes  INTEGER NOT NULL,
    audio_out_ms     REAL NOT NULL,
    rate_limits      TEXT,                   -- JSON: the last rate_limits.updated
    rate_limits_ns   INTEGER,
    unknown_events   INTEGER NOT NULL,
    unknown_types    TEXT,                   -- JSON: {type: count}, item:/content: types too
    malformed_events INTEGER NOT NULL,
    errors           INTEGER NOT NULL,
    work             TEXT                    -- JSON: the projector's bounded bookkeeping
);

CREATE TABLE projected_item (
    session_id           INTEGER NOT NULL,
    item_id              TEXT NOT NULL,
    ordinal              INTEGER,            -- slot in the conversation, deleted items included
    position             INTEGER,            -- 0-based among live items; NULL when deleted
    in_conversation      INTEGER NOT NULL,
    deleted              INTEGER NOT NULL,
    type                 TEXT,
    role                 TEXT,
    status               TEXT,
    parts                TEXT,               -- JSON: [{type, text, transcript}]
    call_id              TEXT,
    name                 TEXT,
    arguments            TEXT,
    output               TEXT,
    server_label         TEXT,
    approval_request_id  TEXT,
    approve              INTEGER,
    mcp_error            TEXT,
    mcp_tools            TEXT,
    source               TEXT,
    response_id          TEXT,
    previous_item_id     TEXT,
    audio_bytes          INTEGER NOT NULL,
    audio_ms             REAL,
    truncated_ms         INTEGER,
    truncated_index      INTEGER,
    transcription_status TEXT,
    transcription_error  TEXT,
    segments             TEXT,               -- JSON: [[text, speaker, start, end]]
    first_ns             INTEGER,
    added_ns             INTEGER,
    done_ns              INTEGER,
    deleted_ns           INTEGER,
    client_ns            INTEGER,
    client_event_id      TEXT,
    text                 TEXT,               -- derived: the parts' text and transcripts
    PRIMARY KEY (session_id, item_id)
) WITHOUT ROWID;

CREATE TABLE projected_response (
    session_id          INTEGER NOT NULL,
    response_id         TEXT NOT NULL,
    status              TEXT,
    status_details      TEXT,                -- JSON
    conversation        TEXT,                -- auto | none (out of band) | NULL (not stated)
    conversation_id     TEXT,
    output_item_ids     TEXT,                -- JSON array
    created_ns          INTEGER,
    first_text_ns       INTEGER,
    first_transcript_ns INTEGER,
    first_audio_ns      INTEGER,
    done_ns             INTEGER,
    requested_ns        INTEGER,
    request_event_id    TEXT,
    audio_bytes         INTEGER NOT NULL,
    audio_ms            REAL NOT NULL,
    output_format       TEXT,
    voice               TEXT,
    modalities          TEXT,                -- JSON
    metadata            TEXT,                -- JSON
    usage               TEXT,                -- JSON
    turn_item_id        TEXT,
    PRIMARY KEY (session_id, response_id)
) WITHOUT ROWID;

CREATE TABLE projected_turn (
    session_id        INTEGER NOT NULL,
    item_id           TEXT NOT NULL,
    turn_index        INTEGER NOT NULL,
    input             TEXT NOT NULL,        -- audio | text
    speech_started_ns INTEGER,
    speech_stopped_ns INTEGER,
    committed_ns      INTEGER,
    client_commit_ns  INTEGER,
    client_ns         INTEGER,
    audio_start_ms    INTEGER,
    audio_end_ms      INTEGER,
    first_response_id TEXT,
    response_id       TEXT,
    responses         INTEGER NOT NULL,
    end_ns            INTEGER,              -- derived: when the user finished
    ended_by          TEXT,                 -- derived: speech_stopped | commit | message
    PRIMARY KEY (session_id, turn_index)    -- a plain scan lists turns in order
) WITHOUT ROWID;

CREATE TABLE projected_session_update (
    session_id INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    t_ns       INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    config     TEXT NOT NULL,               -- JSON: effective configuration after the event
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;

CREATE TABLE projected_error (
    session_id        INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    t_ns              INTEGER NOT NULL,
    type              TEXT,
    code              TEXT,
    message           TEXT,
    param             TEXT,
    client_event_id   TEXT,
    client_seq        INTEGER,               -- the client event it names, if recorded
    client_event_type TEXT,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;

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
       json_extract(p.config, '$.protocol') AS protocol,
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
LEFT JOIN projected_session p ON p.session_id = s.id;

CREATE VIEW items AS
SELECT i.session_id,
       i.item_id,
       i.position,
       i.type,
       i.role,
       i.status,
       i.text,
       i.call_id,
       i.name,
       i.arguments,
       i.output,
       i.audio_ms,
       i.truncated_ms,
       i.deleted,
       i.source,
       i.response_id,
       i.previous_item_id,
       i.transcription_status,
       i.transcription_error,
       i.server_label,
       i.approval_request_id,
       i.approve,
       i.mcp_error AS error,
       i.added_ns / 1e6 AS added_ms,
       i.done_ns / 1e6 AS done_ms,
       i.deleted_ns / 1e6 AS deleted_ms,
       i.client_ns / 1e6 AS client_ms,
       i.client_event_id,
       i.parts AS content,
       i.segments,
       i.ordinal
FROM projected_item i
WHERE i.in_conversation;

CREATE VIEW responses AS
SELECT r.session_id,
       r.response_id,
       r.status,
       json_extract(r.status_details, '$.reason') AS status_reason,
       r.created_ns / 1e6 AS created_ms,
       r.first_text_ns / 1e6 AS first_text_ms,
       r.first_transcript_ns / 1e6 AS first_transcript_ms,
       r.first_audio_ns / 1e6 AS first_audio_ms,
       r.done_ns / 1e6 AS done_ms,
       json_extract(r.usage, '$.input_tokens') AS input_tokens,
       json_extract(r.usage, '$.output_tokens') AS output_tokens,
       json_extract(r.usage, '$.total_tokens') AS total_tokens,
       json_extract(r.usage, '$.input_token_details.text_tokens') AS input_text_tokens,
       json_extract(r.usage, '$.input_token_details.audio_tokens') AS input_audio_tokens,
       json_extract(r.usage, '$.input_token_details.image_tokens') AS input_image_tokens,
       json_extract(r.usage, '$.input_token_details.cached_tokens') AS cached_tokens,
       json_extract(r.usage, '$.output_token_details.text_tokens') AS output_text_tokens,
       json_extract(r.usage, '$.output_token_details.audio_tokens') AS output_audio_tokens,
       r.audio_ms,
       r.conversation,
       coalesce(r.conversation = 'none', 0) AS out_of_band,
       json_array_length(r.output_item_ids) AS output_items,
       r.output_item_ids,
       r.turn_item_id,
       r.requested_ns / 1e6 AS requested_ms,
       r.request_event_id,
       r.output_format,
       r.voice,
       r.modalities,
       r.metadata,
       r.status_details,
       r.usage
FROM projected_response r;

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
       r.first_audio_ns / 1e6 AS first_audio_ms,
       r.first_text_ns / 1e6 AS first_text_ms,
       (coalesce(r.first_audio_ns, r.first_text_ns) - t.end_ns) / 1e6 AS latency_ms,
       t.first_response_id,
       t.responses,
       i.text
FROM projected_turn t
LEFT JOIN projected_response r ON r.session_id = t.session_id AND r.response_id = t.response_id
LEFT JOIN projected_item i ON i.session_id = t.session_id AND i.item_id = t.item_id;

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
       coalesce(o.output, CASE WHEN c.type = 'mcp_call' THEN c.output END) AS output,
       coalesce(o.client_ns, o.added_ns) / 1e6 AS answered_ms,
       (coalesce(o.client_ns, o.added_ns) - c.done_ns) / 1e6 AS answer_ms
FROM projected_item c
LEFT JOIN projected_item o
       ON o.session_id = c.session_id AND o.type = 'function_call_output'
      AND o.call_id = c.call_id AND o.in_conversation AND c.type = 'function_call'
WHERE c.type IN ('function_call', 'mcp_call') AND c.in_conversation;

CREATE VIEW session_updates AS
SELECT u.session_id,
       u.seq,
       u.t_ns / 1e6 AS t_ms,
       u.event_type,
       json_extract(u.config, '$.model') AS model,
       json_extract(u.config, '$.voice') AS voice,
       json_extract(u.config, '$.input_format') AS input_format,
       json_extract(u.config, '$.output_format') AS output_format,
       CAST(substr(json_extract(u.config, '$.input_format'),
                   instr(json_extract(u.config, '$.input_format'), '@') + 1) AS INTEGER) AS input_rate,
       CAST(substr(json_extract(u.config, '$.output_format'),
                   instr(json_extract(u.config, '$.output_format'), '@') + 1) AS INTEGER) AS output_rate,
       json_extract(u.config, '$.turn_detection.type') AS turn_detection,
       json_extract(u.config, '$.transcription_model') AS transcription_model,
       json_extract(u.config, '$.noise_reduction.type') AS noise_reduction,
       json_extract(u.config, '$.output_modalities') AS output_modalities,
       json_extract(u.config, '$.instructions') AS instructions,
       json_extract(u.config, '$.tools') AS tools,
       json_extract(u.config, '$.tool_choice') AS tool_choice,
       json_extract(u.config, '$.speed') AS speed,
       json_extract(u.config, '$.temperature') AS temperature,
       json_extract(u.config, '$.max_output_tokens') AS max_output_tokens,
       u.config
FROM projected_session_update u;

CREATE VIEW errors AS
SELECT e.session_id,
       e.seq,
       e.t_ns / 1e6 AS t_ms,
       e.type,
       e.code,
       e.message,
       e.param,
       e.client_event_id,
       e.client_event_type,
       e.client_seq,
       (SELECT c.t_ns / 1e6 FROM event c
        WHERE c.session_id = e.session_id AND c.seq = e.client_seq) AS client_t_ms
FROM projected_error e;
