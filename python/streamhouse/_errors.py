"""Exceptions raised by streamhouse: one class per kind of library error.

Every exception is a :class:`StreamhouseError` with two attributes: ``kind`` (the library's
name for it: ``"not found"``, ``"invalid input"``, …) and ``retryable`` (whether trying again
may succeed: a lost commit race, a storage hiccup).
"""


class StreamhouseError(Exception):
    """Base class of every streamhouse error."""

    kind = "internal"
    retryable = False


class NotFound(StreamhouseError, LookupError):
    """Something that should exist does not: a table, a snapshot, a tag, a file."""

    kind = "not found"


class AlreadyExists(StreamhouseError):
    """Something already exists: a table on create, a tag."""

    kind = "already exists"


class Conflict(StreamhouseError):
    """Concurrent writers changed what an operation depends on; trying again may succeed."""

    kind = "conflict"


class InvalidInput(StreamhouseError, ValueError):
    """The caller's input does not fit: a schema, an option, an argument, rows or keys."""

    kind = "invalid input"


class Corrupt(StreamhouseError):
    """A metadata or data file exists but cannot be decoded."""

    kind = "corrupt"


class Unsupported(StreamhouseError):
    """A feature of the table that this version does not handle (never silently ignored)."""

    kind = "unsupported"


class StorageError(StreamhouseError, OSError):
    """Storage failed (network, permissions, disk); see ``retryable``."""

    kind = "I/O"


__all__ = [
    "StreamhouseError",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "InvalidInput",
    "Corrupt",
    "Unsupported",
    "StorageError",
]
