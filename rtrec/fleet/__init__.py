"""Many recorders, one dataset: the log and its views as Hive-partitioned Parquet.

`rtrec export-parquet` writes `DIR/TABLE/date=YYYY-MM-DD/recorder=NAME/part-UUID.parquet`,
one part per session per table, each replaced atomically, so any engine that reads
Parquet (DuckDB, Spark, Trino, ClickHouse, BigQuery) answers questions about a whole
fleet from the union of its recorders' datasets; `rtrec sql --parquet DIR` runs the
same view names over it with DuckDB.

- columns.py: each view column's type in the dataset (pure);
- dataset.py: the directory: layout, its schema file, locks, atomic parts;
- manifest.py: what a recorder has exported, and from which database;
- parts.py: rows to Parquet parts with pyarrow, in bounded batches;
- export.py: the incremental export of one database;
- query.py: DuckDB views over a dataset, and a read-only query;
- engines.py: the optional engines (the `fleet` extra), or one line saying how to get them.

What they read of the database comes through rtrec/store/snapshot.py, which writes nothing.
"""
