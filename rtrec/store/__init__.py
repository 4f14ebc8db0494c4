"""The event log: the only package that talks to SQLite (`rtrec sql` runs the user's query
on a connection it gets from here).

Opening:
    db          the writer's connection: create safely (0600), migrate, mark interrupted
    reading     a reader's connection: nothing is created, changed or removed
    connections the connection type other packages hold, and closing on failure
    migrate     numbered SQL files (migrations/) applied in order
    liveness    which recorder processes are alive (flock per recorder)

Writing (in the writer process, rtrec/store/writer_process.py):
    handoff     the records the relay sends and the reports it gets back
    session     a session being written: its row and its live counters
    frames      frame ⇄ row: envelope, audio compaction and its exactness proof, scrubbing
    writer      batches into the log; the spill file when the log refuses them
    spill       the spill file, and restoring it (importer.restore_spill)
    follower    projections kept current while recording, on the writer's second thread
    importer    `rtrec import`: a JSONL file or a spill file, all or nothing

Reading:
    reader      sessions by reference; a session's frames streamed back exactly
    recorded    a session's metadata as replay needs it
    metadata    a session's protocol, as the log says it
    paging      page sizes and the "no end" bound, defined once
    projection  the projection tables: incremental catch-up and rebuilds
    projection_rows, projected   projector state ⇄ table rows; the views read back
    overview, event_log, snapshot, trace_source, staging, query_guard   what the
                session list, the page's event log, exporters, traces, `import` and
                `rtrec sql` read through
"""
