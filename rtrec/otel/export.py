"""Sending traces with the OpenTelemetry SDK's own OTLP exporters.

Spans are built as the SDK's ReadableSpan with their recorded times and derived ids
(rtrec/otel/ids.py) and handed straight to the exporter: no tracer, no span
processor, so `send` knows at once whether the backend took a session.  The SDK's
exporter retries what OTLP calls transient (refused connections, 429, 502-504) until
its timeout (default 10 s, `OTEL_EXPORTER_OTLP_TIMEOUT`) and no longer; what it logs
about a failure becomes the one line of ExportFailed.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from rtrec import __version__
from rtrec.errors import ConfigError, RtrecError
from rtrec.otel.session import attributes_with_audio
from rtrec.otel.spans import SpanSpec, Trace

HTTP = "http/protobuf"
GRPC = "grpc"
PROTOCOLS = (HTTP, GRPC)
_ALIASES = {"http": HTTP, "http/protobuf": HTTP, "grpc": GRPC}
TRACES_PATH = "/v1/traces"
SPANS_PER_REQUEST = 512
# Audio makes spans large: a request is closed at about this many bytes of it, under the
# 4 MiB a gRPC receiver takes by default (one span with more audio goes alone).
AUDIO_BYTES_PER_REQUEST = 2 * 2**20


class ExportFailed(RtrecError):
    """The backend did not take a trace (unreachable, refusing, or a 4xx/5xx answer)."""


def missing_extra(what: str = "otel") -> RtrecError:
    return RtrecError(
        f"traces need the OpenTelemetry SDK, which is not installed: pip install 'rtrec[{what}]'"
    )


@dataclass(frozen=True, slots=True)
class Destination:
    protocol: str
    endpoint: str  # as the exporter is given it
    timeout: float | None

    @property
    def shown(self) -> str:
        """The endpoint without any user:password part, for messages."""
        parts = urlsplit(self.endpoint)
        if parts.username or parts.password:
            host = parts.hostname or ""
            netloc = f"{host}:{parts.port}" if parts.port else host
            return urlunsplit(parts._replace(netloc=netloc))
        return self.endpoint


def resolve_destination(
    protocol: str | None = None, endpoint: str | None = None, timeout: float | None = None
) -> Destination:
    """Where traces go: the flags first, then the standard OTEL_EXPORTER_OTLP_* variables.

    An endpoint given with --endpoint is a base URL like OTEL_EXPORTER_OTLP_ENDPOINT
    (HTTP gets /v1/traces appended unless it is already there);
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is.
    """
    env = os.environ
    chosen = (
        protocol
        or env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or HTTP
    )
    resolved = _ALIASES.get(chosen.strip().lower())
    if resolved is None:
        raise ConfigError(
            f"unsupported OTLP protocol {chosen!r}: use http/protobuf (the default) or grpc"
        )
    if endpoint is not None:
        url, as_is = endpoint.strip(), False
    elif env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        url, as_is = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].strip(), True
    elif env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        url, as_is = env["OTEL_EXPORTER_OTLP_ENDPOINT"].strip(), False
    else:
        url, as_is = (
            ("http://localhost:4318" if resolved == HTTP else "http://localhost:4317"),
            False,
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"bad OTLP endpoint {url!r}: expected http://HOST:PORT or https://…")
    if resolved == HTTP and not as_is and not parts.path.rstrip("/").endswith(TRACES_PATH):
        url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + TRACES_PATH))
    if timeout is not None and not timeout > 0:
        raise ConfigError(f"a timeout must be more than 0 seconds, not {timeout!r}")
    return Destination(resolved, url, timeout)


class SpanSender:
    """One OTLP exporter, sending whole traces; `send` raises ExportFailed on failure."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        try:
            from opentelemetry.sdk.resources import Resource
        except ImportError as exc:
            raise missing_extra() from exc
        resource = Resource.create({"service.version": __version__})
        if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
            resource = resource.merge(Resource({"service.name": "rtrec"}))
        self._resource = resource
        self._log = _failure_log()
        self._exporter = _exporter(destination, self._log)

    def send(self, trace: Trace) -> int:
        """Send every span of the trace; the number sent."""
        from opentelemetry.sdk.trace.export import SpanExportResult

        for batch in _batches(trace.spans):
            spans = [_readable(trace, spec, self._resource) for spec in batch]
            with self._log.capture() as messages:
                result = self._exporter.export(spans)
            if result is not SpanExportResult.SUCCESS:
                raise ExportFailed(
                    f"cannot send traces to {self.destination.shown}: {failure_reason(messages)}"
                )
        return len(trace.spans)

    def close(self) -> None:
        with self._log.capture():
            self._exporter.shutdown()


def _exporter(destination: Destination, log: _FailureLog) -> Any:
    if destination.protocol == GRPC:
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError as exc:
            raise missing_extra("otel-grpc") from exc
        return GrpcExporter(endpoint=destination.endpoint, timeout=destination.timeout)
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise missing_extra() from exc
    return OTLPSpanExporter(
        endpoint=destination.endpoint, timeout=destination.timeout, session=_noting_session(log)
    )


def _noting_session(log: _FailureLog) -> Any:
    """A requests session that notes why a request failed (the SDK's logs may not say)."""
    import requests

    class NotingSession(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            try:
                response = super().request(*args, **kwargs)
            except Exception as exc:
                log.note(_exception_words(exc))
                raise
            if response.status_code >= 400:
                log.note(f"HTTP {response.status_code} {response.reason or ''}".strip())
            return response

    return NotingSession()


def _exception_words(exc: BaseException) -> str:
    text = str(exc)
    found = _ERRNO.search(text)
    if found:
        return found[1].strip().lower()
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return "timed out"
    if "SSL" in type(exc).__name__ or "certificate" in text.lower():
        return f"TLS error ({text[:120]})"
    return text if len(text) <= 200 else text[:200] + "…"


def _batches(spans: Sequence[SpanSpec]) -> Iterator[list[SpanSpec]]:
    """The spans in requests of at most SPANS_PER_REQUEST, and about so much audio."""
    batch: list[SpanSpec] = []
    audio = 0
    for span in spans:
        size = sum(part.path.stat().st_size for part in span.audio)
        if batch and (len(batch) >= SPANS_PER_REQUEST or audio + size > AUDIO_BYTES_PER_REQUEST):
            yield batch
            batch, audio = [], 0
        batch.append(span)
        audio += size
    if batch:
        yield batch


def _readable(trace: Trace, spec: SpanSpec, resource: Any) -> Any:
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, TraceFlags
    from opentelemetry.trace.status import Status, StatusCode

    flags = TraceFlags(TraceFlags.SAMPLED)
    parent = (
        SpanContext(trace.trace_id, spec.parent_id, is_remote=False, trace_flags=flags)
        if spec.parent_id is not None
        else None
    )
    return ReadableSpan(
        name=spec.name,
        context=SpanContext(trace.trace_id, spec.span_id, is_remote=False, trace_flags=flags),
        parent=parent,
        resource=resource,
        attributes=attributes_with_audio(spec),
        events=[Event(e.name, e.attributes, e.time_ns) for e in spec.events],
        kind=SpanKind.CLIENT if spec.client else SpanKind.INTERNAL,
        status=Status(StatusCode.ERROR, spec.error) if spec.error else Status(StatusCode.UNSET),
        start_time=spec.start_ns,
        end_time=spec.end_ns,
        instrumentation_scope=InstrumentationScope("rtrec", __version__),
    )


_FAILURE_LOG: _FailureLog | None = None


def _failure_log() -> _FailureLog:
    global _FAILURE_LOG
    if _FAILURE_LOG is None:
        _FAILURE_LOG = _FailureLog()
    return _FAILURE_LOG


class _FailureLog(logging.Handler):
    """Keeps what the SDK logs while a call runs, instead of letting it reach stderr."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._local = threading.local()
        logger = logging.getLogger("opentelemetry")
        logger.addHandler(self)
        logger.propagate = False  # the SDK's warnings become rtrec's one line

    def emit(self, record: logging.LogRecord) -> None:
        self.note(record.getMessage())

    def note(self, message: str) -> None:
        messages = getattr(self._local, "messages", None)
        if messages is not None:
            messages.append(message)

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        messages: list[str] = []
        self._local.messages = messages
        try:
            yield messages
        finally:
            self._local.messages = None


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")
_HTTP_CODE = re.compile(r"code: (\d{3}), reason: (.*)")
_GRPC_CODE = re.compile(r"StatusCode\.([A-Z_]+)")


def failure_reason(messages: Sequence[str]) -> str:
    """The SDK's log lines (and the session's notes) about a failed export, as words."""
    for message in reversed(messages):
        if message.startswith("HTTP ") or message in ("connection refused", "timed out"):
            return message
    for message in reversed(messages):
        found = _HTTP_CODE.search(message)
        if found and found[1] != "None":
            return f"HTTP {found[1]} {found[2].strip()}".strip()
    for message in reversed(messages):
        found = _ERRNO.search(message)
        if found:
            return found[1].strip().lower()
        if "timed out" in message.lower():
            return "timed out"
    for message in reversed(messages):
        found = _GRPC_CODE.search(message)
        if found:
            return f"gRPC {found[1]}"
    text = messages[-1] if messages else "the exporter gave no reason"
    return text if len(text) <= 200 else text[:200] + "…"
