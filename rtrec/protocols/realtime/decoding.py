"""Decoding a Realtime event row's payload for the projector: `decoded(cls)` is the
decoder of the handler that takes a `cls` (rtrec/protocols/event_union.py).  Pure."""

from __future__ import annotations

from rtrec.protocols.realtime.events import EVENTS

decoded = EVENTS.row_decoder
