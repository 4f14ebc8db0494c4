"""Recorded sessions as OpenTelemetry traces (`rtrec otel`, `rtrec record --otel`).

trace.py and attributes.py build a trace from the views (pure); export.py sends it
with the OpenTelemetry SDK's OTLP exporters (the `otel` extra); worker.py sends each
session as a recorder finishes it, off the relay's path.
"""
