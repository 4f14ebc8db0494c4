"""The errors rtrec raises for conditions a user can act on.

The CLI turns any RtrecError into one line on stderr and a non-zero exit;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class RtrecError(Exception):
    """A problem the user can fix: bad input, a missing session, a bad database."""


class DatabaseError(RtrecError):
    """The database cannot be opened or used as an rtrec event log."""


class NewerDatabaseError(DatabaseError):
    """The database was written by a newer rtrec whose schema this one does not know."""

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            f"{path} was written by a newer rtrec (schema version {found}; "
            f"this rtrec knows up to {known}); upgrade rtrec to read it"
        )
        self.found = found
        self.known = known


class SessionNotFound(RtrecError):
    """No session matches the reference the user gave."""


class ImportFormatError(RtrecError):
    """A line of an import file is not in the JSONL interchange format."""

    def __init__(self, source: str, line_no: int, reason: str) -> None:
        where = f"{source}:{line_no}" if line_no else source
        super().__init__(f"{where}: {reason}; nothing was imported")
        self.line_no = line_no
        self.reason = reason


class ConfigError(RtrecError):
    """A flag or setting has a value rtrec cannot use."""
