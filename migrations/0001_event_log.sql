-- The event log: one row per recorded session, one row per WebSocket frame.
--
-- `session` rows are metadata and are updated as a session ends.  `event` rows
-- are the log itself: append-only, enforced below by triggers.
--
-- Storage of audio frames is compacted: for input_audio_buffer.append and the
-- response audio deltas, `frame` holds the frame text with the base64 audio
-- string emptied, `audio` holds the decoded bytes, and `audio_at` is the
-- 0-based character offset in `frame` where the base64 text goes back.
-- The writer only compacts a frame after checking that the frame comes back
-- byte for byte; otherwise `frame` holds the whole frame and `audio` is NULL.

CREATE TABLE session (
    id                    INTEGER PRIMARY KEY,
    uuid                  TEXT NOT NULL UNIQUE,
    source                TEXT NOT NULL,          -- record | import | demo | replay
    started_at            TEXT NOT NULL,          -- ISO 8601 UTC
    started_ns            INTEGER NOT NULL,       -- wall clock, ns since the epoch
    ended_at              TEXT,
    ended_ns              INTEGER,
    end_reason            TEXT CHECK (end_reason IN (
                              'client_closed', 'upstream_closed', 'upstream_refused',
                              'relay_stopped', 'interrupted', 'imported')),
    upstream              TEXT,                   -- origin, e.g. wss://api.openai.com
    path                  TEXT,
    query                 TEXT,                   -- secrets removed
    model                 TEXT,
    client_addr           TEXT,
    request_headers       TEXT,                   -- JSON object, secrets removed
    subprotocol           TEXT,                   -- as selected by upstream
    response_headers      TEXT,                   -- upstream handshake response, JSON
    refused_status        INTEGER,                -- upstream handshake refusal
    refused_body          TEXT,
    client_close_code     INTEGER,
    client_close_reason   TEXT,
    upstream_close_code   INTEGER,
    upstream_close_reason TEXT,
    error                 TEXT,
    recorder              TEXT,                   -- recorder process holding it open
    parent_id             INTEGER REFERENCES session(id)  -- replayed from
);

CREATE TABLE event (
    id          INTEGER PRIMARY KEY,              -- global append order
    session_id  INTEGER NOT NULL REFERENCES session(id),
    seq         INTEGER NOT NULL,                 -- arrival order within the session
    t_ns        INTEGER NOT NULL,                 -- monotonic ns since session start
    wall_ns     INTEGER NOT NULL,                 -- wall clock ns since the epoch
    direction   TEXT NOT NULL CHECK (direction IN ('client', 'server')),
    type        TEXT,
    event_id    TEXT,
    item_id     TEXT,
    response_id TEXT,
    flags       INTEGER NOT NULL DEFAULT 0,       -- 1 binary frame, 2 redacted, 4 not JSON
    frame,                                        -- TEXT, or BLOB for binary frames
    audio       BLOB,
    audio_at    INTEGER
);

CREATE UNIQUE INDEX event_session_seq ON event (session_id, seq);

CREATE TRIGGER event_no_update BEFORE UPDATE ON event
BEGIN
    SELECT RAISE(ABORT, 'rtrec: events are append-only');
END;

CREATE TRIGGER event_no_delete BEFORE DELETE ON event
BEGIN
    SELECT RAISE(ABORT, 'rtrec: events are append-only');
END;

CREATE VIEW sessions AS
SELECT s.id AS session_id,
       s.uuid,
       s.started_at,
       s.ended_at,
       s.end_reason,
       s.model,
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
       s.parent_id
FROM session s;

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
           WHEN e.flags & 5 THEN NULL
           -- audio frames kept whole (the writer could not prove a compact copy exact)
           WHEN e.type = 'input_audio_buffer.append' AND json_valid(e.frame)
               THEN json_set(e.frame, '$.audio', length(json_extract(e.frame, '$.audio')) / 4 * 3 - (json_extract(e.frame, '$.audio') LIKE '%==') - (json_extract(e.frame, '$.audio') LIKE '%='))
           WHEN e.type IN ('response.output_audio.delta', 'response.audio.delta') AND json_valid(e.frame)
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
