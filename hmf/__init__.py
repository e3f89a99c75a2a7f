"""hmf: Hierarchical Matrix Factorization (Sugahara & Okamoto) and the paper's experiments.

Modules: ``hmf.data`` (data sets), ``hmf.split`` (paper splits), ``hmf.profiles`` (run profiles),
``hmf.paper`` (the paper's published numbers, for comparison only).
"""

__version__ = "0.1.0"
