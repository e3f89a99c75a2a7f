"""Errors a user can fix by changing an argument (as opposed to a bug), a run that failed, and
a sweep that was asked to stop."""

from __future__ import annotations

import signal

__all__ = ["UsageError", "TrainingDiverged", "RunsFailed", "Interrupted"]


class UsageError(ValueError):
    """An unknown name or an impossible value; the message names it and what was expected."""


class TrainingDiverged(ValueError):
    """A run whose loss or metrics are not finite (NaN or infinity): a failed run, no record."""


class RunsFailed(ValueError):
    """Some runs of a sweep failed (diverged); the others finished and were kept."""


class Interrupted(Exception):
    """A sweep stopped by a signal (Ctrl-C, ``kill``, a closed terminal).

    ``finished``: runs whose records this sweep wrote before it stopped (all kept);
    ``remaining``: runs still without a record; ``where``: what was being swept; ``detail``
    replaces the counts for work that is not a sweep (re-running records, say).
    """

    def __init__(
        self,
        signum: int,
        finished: int = 0,
        remaining: int = 0,
        where: str = "",
        detail: str = "",
    ):
        super().__init__(signum, finished, remaining, where, detail)
        self.signum, self.finished, self.remaining = signum, finished, remaining
        self.where, self.detail = where, detail

    @property
    def signal_name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"

    @property
    def exit_status(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum

    def __str__(self) -> str:
        where = f" ({self.where})" if self.where else ""
        if self.detail:
            return f"interrupted by {self.signal_name}{where}: {self.detail}"
        runs = "run" if self.finished == 1 else "runs"
        return (
            f"interrupted by {self.signal_name}{where}: {self.finished} {runs} finished and "
            f"kept, {self.remaining} still to run"
        )
