"""Moved to `rtrec.capture.writer_link` (shared by `record` and `replay --to`); kept as an
alias for code that still names it here."""

from rtrec.capture.writer_link import WriterLink

__all__ = ["WriterLink"]
