"""How a sweep shows how far it has got: a bar at a terminal, a line now and then in a log, or
nothing (a notebook's output, where it would only be noise)."""

from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["LOG_EVERY", "progress_bar"]

LOG_EVERY = 60.0  # seconds: a log gets at most one line this often, and one at the end


class _LogLines(tqdm):
    """tqdm's count, elapsed time and time left as whole lines: a log file or ``tail -f``
    shows carriage returns as one ever-growing line."""

    def display(self, msg=None, pos=None):  # tqdm's documented hook for other front ends
        if msg == "":  # tqdm clearing the bar: a log keeps its lines
            return False
        self.fp.write(str(self) + "\n")
        self.fp.flush()
        return True

    def close(self):
        shown = getattr(self, "last_print_t", 0) >= self.start_t + self.delay
        if not self.disable and shown and self.n != self.last_print_n:
            self.display()  # the count it stopped at, whether done or interrupted
        super().close()


def progress_bar(total: int, desc: str, progress: bool | str) -> tqdm:
    """A tqdm counter of ``total`` runs, to update as they finish.

    ``progress``: ``True`` draws tqdm's bar where standard error is a terminal and nothing
    elsewhere; ``"log"`` (``hmf sweep``) draws the bar at a terminal, and elsewhere, once the
    sweep has run :data:`LOG_EVERY` seconds, writes a line at most that often as runs finish and
    one when it stops, so that a sweep left running in the background says how far it is (a
    shorter one writes nothing); ``False``: nothing."""
    at_terminal = sys.stderr.isatty()
    if progress == "log" and not at_terminal:
        return _LogLines(
            total=total,
            desc=desc,
            unit="run",
            file=sys.stderr,
            mininterval=LOG_EVERY,
            delay=LOG_EVERY,
            miniters=1,
            leave=False,
            bar_format="{desc}: {n_fmt}/{total_fmt} runs after {elapsed}, about {remaining} left",
        )
    return tqdm(total=total, desc=desc, unit="run", disable=not (progress and at_terminal))
