"""Named errors that every channel turns into a clear Indonesian message and a stable exit code.

``code`` is a stable English snake_case identifier (for scripts and logs); ``message`` is what a person reads.
Exit codes follow the command-line contract: 1 invalid input or failed check, 3 access denied, 4 environment.
"""

from __future__ import annotations


class MuskelError(Exception):
    exit_code = 1
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class InvalidInput(MuskelError):
    """The user's input cannot be accepted; the message names the field and what to do."""

    code = "invalid_input"


class NotFound(MuskelError):
    code = "not_found"


class StaleEdit(MuskelError):
    """Someone else changed the record after this user loaded it: nothing is overwritten silently."""

    code = "stale_edit"


class AccessDenied(MuskelError):
    exit_code = 3
    code = "access_denied"


class EnvironmentProblem(MuskelError):
    """The database or the data directory is not usable; nothing the user typed is at fault."""

    exit_code = 4
    code = "environment"
