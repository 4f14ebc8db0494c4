"""The `rtrec` command: one module per command (main.py loads each on first use).

Shared by the commands: options (flags as decorators), params (click types that
validate flags), output (rows as a table, JSON or CSV), reading (open the log
read-only, views current), wording (the library's typed errors worded with their
flags: the only place that knows them).
"""
