"""What the job engine refuses to do."""

from __future__ import annotations


class JobActionError(ValueError):
    """An action that makes no sense for a job in its current state (the message says why and
    what to do instead)."""
