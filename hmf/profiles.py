"""Run profiles, chosen with ``$HMF_PROFILE``: how much of the paper's protocol to run.

* ``smoke`` - minutes on a CI runner: one seed, a handful of epochs, one or two configurations,
  and chapters train on ML-100K and its implicit substitute only (the other data sets' rows
  read as not computed). Numbers from it only show that the code runs; they are not results.
* ``book`` (default) - what the published book shows: the paper's epochs, early stopping and five
  seeds, over a documented subset of the Table 2 grid that a 2-core laptop finishes.
* ``paper`` - the paper's full protocol: every Table 2 configuration, five seeds each.
"""

from __future__ import annotations

import dataclasses
import os

from hmf import checks

__all__ = ["Profile", "PROFILES", "get_profile", "current_profile"]


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    description: str
    max_epochs_rating: int  # paper: 512
    max_epochs_ranking: int  # paper: 128
    patience: int  # paper: stop after 5 epochs without improvement
    seeds: tuple[int, ...]  # paper: five seeds
    # The data sets a chapter trains missing records on (None: all); `hmf sweep` trains any.
    train_datasets: tuple[str, ...] | None = None

    @property
    def caps(self) -> tuple[int, int, int]:
        """What decides how long a run trains: two profiles with the same caps train a
        configuration and seed alike."""
        return (self.max_epochs_rating, self.max_epochs_ranking, self.patience)


# Paper Table 2 and Section 4.3: epoch caps, patience, five seeds.
_PAPER_SETTINGS = dict(
    max_epochs_rating=512, max_epochs_ranking=128, patience=5, seeds=(0, 1, 2, 3, 4)
)
PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="CI check that every notebook runs; a few epochs, one seed - not results",
        max_epochs_rating=5,
        max_epochs_ranking=3,
        patience=5,
        seeds=(0,),
        train_datasets=("ml-100k", "ml-100k-implicit"),
    ),
    "book": Profile(
        name="book",
        description="the published book: paper epochs and seeds on a documented grid subset",
        **_PAPER_SETTINGS,
    ),
    "paper": Profile(
        name="paper",
        description="the paper's full Table 2 grid, five seeds per configuration",
        **_PAPER_SETTINGS,
    ),
}


def get_profile(name: str) -> Profile:
    return checks.lookup(PROFILES, name, "profile", "set HMF_PROFILE or pass the name")


def current_profile() -> Profile:
    """The profile named by ``$HMF_PROFILE`` (default ``book``)."""
    return get_profile(os.environ.get("HMF_PROFILE", "book"))
