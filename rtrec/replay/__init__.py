"""Replaying recorded sessions: `rtrec replay`.

Pure cores (no I/O, tested without an event loop):
    timeline   recorded times → capped gaps → offsets / speed; the client-pacing anchor
    selection  --from/--until bounds, --only, --type patterns
    cues       --pace client counterparts and --strict close codes
    formats    the audio formats in force at each event
    terminal   the readable view: one line per event, growing text, audio durations

I/O around them:
    source     the session in the log, streamed in windows (flat memory)
    feed       windows read ahead in the slack before each due time
    clock      waiting for a due time, never early
    player     to stdout: the view or JSONL
    session    one client of the mock server; server: the WebSocket server
    background the server on its own thread (the pytest fixture)
    resend     --to: the client side re-sent to a live server and recorded anew
"""
