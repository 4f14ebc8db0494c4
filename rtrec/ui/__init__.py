"""`rtrec ui`: the database's sessions in the browser, read-only, following live calls.

server.py is the standard library's threading HTTP server with the access rule;
app.py answers each request from the store; mixes.py makes each session's sound in
the background.  The pages are rtrec/view's.
"""
