"""WAV export: a recorded session's audio as files, per side, per response or item, and
as a stereo timeline of what the user heard.

The pure core (formats, PCM assembly, timeline placement, the fold that routes audio)
imports no I/O; `source` reads the log and `sinks` writes the files.
"""
