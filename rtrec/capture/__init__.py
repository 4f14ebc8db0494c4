"""Recording a session into the event log, for every command that records one.

`rtrec record`'s relay (rtrec/recorder) and `rtrec replay --to` (rtrec/replay) both
record: a new session row from a handshake (`session.new_session`, `session.answered`),
then its frames, handed to a writer process (`writer_link.WriterLink`, which tells the
one concurrency story rtrec has; `writer_child` starts and reaps that process).  Living
here, neither the recorder nor the replay imports the other to record.
"""
