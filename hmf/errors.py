"""Errors a user can fix by changing an argument (as opposed to a bug)."""

__all__ = ["UsageError"]


class UsageError(ValueError):
    """An unknown name or an impossible value; the message names it and what was expected."""
