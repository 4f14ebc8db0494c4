"""`rtrec record`: the relay between a client and its upstream, recording every frame.

Read in this order:
    service    Recorder: the writer process, the relay and the status board, started
               and stopped together (what `rtrec record`, `demo` and the tests run)
    server     the listener: checks each upgrade (target, access, health), opens the
               upstream, and starts a relayed session
    target     the client's request target: only an origin-form path and query pass
    routing    which upstream a path goes to, and which key (if any) the relay adds
    upstream   dialling the upstream with the client's own credentials (rtrec/dial.py)
    relay      one session: two pumps, every frame handed to the log and sent on at once
    status     the live status lines on stderr

Recording itself (the hand-off to the writer process, spill, restarts) lives in
rtrec/capture, beside both the recorder and `replay --to`; the log in rtrec/store.
Nothing here opens the database.
"""
