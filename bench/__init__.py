"""rtrec's benchmarks: each module measures one part against a baseline run beside it.

Run them all with `python -m bench` (or `bench/run`); `--quick` for a short pass,
`--only NAME` for one.  Each benchmark module defines NAME, DESCRIPTION and
`run(quick: bool) -> list[Result]`, and is listed in BENCHMARKS below.
"""

BENCHMARKS: list[str] = [
    "relay",
    "ingest",
    "storage",
    "memory",
    "export_wav",
    "replay_timing",
    "projector",
    "parquet",
    "view",
]
