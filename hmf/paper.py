"""The paper's published numbers (Sugahara & Okamoto), for comparison columns only.

Nothing here is ever used as a result: every table in the book computes our numbers from code and
shows these beside them in columns labelled as the paper's.
"""

from __future__ import annotations

__all__ = [
    "TABLE1",
    "TABLE3_RATING",
    "TABLE3_RANKING",
    "TABLE6_RATING",
    "TABLE6_RANKING",
    "DATASET_LABELS",
]

DATASET_LABELS = {
    "ml-100k": "ML-100K",
    "ml-1m": "ML-1M",
    "ciao": "Ciao",
    "diginetica": "DIGINETICA",
}

# Table 1: dataset statistics after filtering.
TABLE1 = {
    "ml-100k": {
        "users": 625,
        "items": 1561,
        "train": 64000,
        "validation": 2775,
        "test": 1932,
        "density": 0.0704,
    },
    "ml-1m": {
        "users": 4463,
        "items": 3594,
        "train": 640133,
        "validation": 33344,
        "test": 68816,
        "density": 0.0463,
    },
    "ciao": {
        "users": 1786,
        "items": 9004,
        "train": 23081,
        "validation": 709,
        "test": 211,
        "density": 0.0015,
    },
    "diginetica": {
        "users": 24933,
        "items": 54859,
        "train": 180894,
        "validation": 2324,
        "test": 1398,
        "density": 0.0004,
    },
}

# Table 3 (a): test RMSE mean, std, significant vs HMF (dagger), train / inference seconds
# on CPU and GPU (None where the paper prints "-").
TABLE3_RATING = {
    ("ml-100k", "mf"): {
        "rmse": 1.113,
        "std": 0.013,
        "dagger": True,
        "train_cpu": 6.3,
        "train_gpu": 6.3,
        "infer_cpu": 0.006,
        "infer_gpu": 0.009,
    },
    ("ml-100k", "ihsr"): {
        "rmse": 1.080,
        "std": 0.002,
        "dagger": True,
        "train_cpu": 0.6,
        "train_gpu": None,
        "infer_cpu": 0.009,
        "infer_gpu": None,
    },
    ("ml-100k", "etree"): {
        "rmse": 1.082,
        "std": 0.006,
        "dagger": True,
        "train_cpu": 182.6,
        "train_gpu": None,
        "infer_cpu": 0.002,
        "infer_gpu": None,
    },
    ("ml-100k", "hmf"): {
        "rmse": 1.066,
        "std": 0.002,
        "dagger": False,
        "train_cpu": 82.7,
        "train_gpu": 10.7,
        "infer_cpu": 0.024,
        "infer_gpu": 0.014,
    },
    ("ml-1m", "mf"): {
        "rmse": 0.913,
        "std": 0.002,
        "dagger": True,
        "train_cpu": 237.7,
        "train_gpu": 172.1,
        "infer_cpu": 0.009,
        "infer_gpu": 0.010,
    },
    ("ml-1m", "ihsr"): {
        "rmse": 0.951,
        "std": 0.000,
        "dagger": True,
        "train_cpu": 130.7,
        "train_gpu": None,
        "infer_cpu": 0.227,
        "infer_gpu": None,
    },
    ("ml-1m", "etree"): {
        "rmse": 0.922,
        "std": 0.003,
        "dagger": False,
        "train_cpu": 3054.5,
        "train_gpu": None,
        "infer_cpu": 0.014,
        "infer_gpu": None,
    },
    ("ml-1m", "hmf"): {
        "rmse": 0.920,
        "std": 0.003,
        "dagger": False,
        "train_cpu": 209.1,
        "train_gpu": 7.0,
        "infer_cpu": 0.557,
        "infer_gpu": 0.016,
    },
    ("ciao", "mf"): {
        "rmse": 2.306,
        "std": 0.017,
        "dagger": True,
        "train_cpu": 21.9,
        "train_gpu": 15.6,
        "infer_cpu": 0.007,
        "infer_gpu": 0.010,
    },
    ("ciao", "ihsr"): {
        "rmse": 1.122,
        "std": 0.001,
        "dagger": True,
        "train_cpu": 84.9,
        "train_gpu": None,
        "infer_cpu": 0.002,
        "infer_gpu": None,
    },
    ("ciao", "etree"): {
        "rmse": 1.254,
        "std": 0.045,
        "dagger": True,
        "train_cpu": 105.1,
        "train_gpu": None,
        "infer_cpu": 0.020,
        "infer_gpu": None,
    },
    ("ciao", "hmf"): {
        "rmse": 0.939,
        "std": 0.001,
        "dagger": False,
        "train_cpu": 331.2,
        "train_gpu": 9.9,
        "infer_cpu": 0.061,
        "infer_gpu": 0.014,
    },
}

# Table 3 (b): DIGINETICA ranking@10; dagger marks per metric.
TABLE3_RANKING = {
    "bpr-mf": {
        "hit_ratio@10": 0.314,
        "hr_std": 0.019,
        "hr_dagger": False,
        "mrr@10": 0.153,
        "mrr_std": 0.013,
        "mrr_dagger": True,
        "train_cpu": 160.4,
        "train_gpu": 62.7,
        "infer_cpu": 0.025,
        "infer_gpu": 0.016,
    },
    "neumf": {
        "hit_ratio@10": 0.307,
        "hr_std": 0.009,
        "hr_dagger": False,
        "mrr@10": 0.150,
        "mrr_std": 0.005,
        "mrr_dagger": True,
        "train_cpu": 1094.2,
        "train_gpu": 290.2,
        "infer_cpu": 0.142,
        "infer_gpu": 0.030,
    },
    "protomf": {
        "hit_ratio@10": 0.277,
        "hr_std": 0.027,
        "hr_dagger": True,
        "mrr@10": 0.122,
        "mrr_std": 0.011,
        "mrr_dagger": False,
        "train_cpu": 891.6,
        "train_gpu": 88.5,
        "infer_cpu": 1.188,
        "infer_gpu": 0.038,
    },
    "bpr-hmf": {
        "hit_ratio@10": 0.323,
        "hr_std": 0.004,
        "hr_dagger": False,
        "mrr@10": 0.126,
        "mrr_std": 0.003,
        "mrr_dagger": False,
        "train_cpu": 1674.5,
        "train_gpu": 70.2,
        "infer_cpu": 0.162,
        "infer_gpu": 0.022,
    },
}

# Table 6 (a): HMF test RMSE (mean, std, dagger vs depth 1) by depth p = q.
# fmt: off
TABLE6_RATING = {
    ("ml-100k", 1): (1.066, 0.002, False), ("ml-100k", 2): (1.070, 0.013, False),
    ("ml-100k", 3): (1.061, 0.005, False), ("ml-100k", 4): (1.067, 0.017, False),
    ("ml-1m", 1): (0.920, 0.003, False), ("ml-1m", 2): (0.930, 0.003, True),
    ("ml-1m", 3): (0.928, 0.004, True), ("ml-1m", 4): (0.931, 0.002, True),
    ("ciao", 1): (0.939, 0.001, False), ("ciao", 2): (0.928, 0.005, False),
    ("ciao", 3): (0.927, 0.012, False), ("ciao", 4): (0.930, 0.011, False),
}
# fmt: on

# Table 6 (b): BPR-HMF on DIGINETICA by depth: (HR@10, std, MRR@10, std).
TABLE6_RANKING = {
    1: (0.323, 0.004, 0.126, 0.003),
    2: (0.325, 0.003, 0.125, 0.002),
    3: (0.328, 0.010, 0.127, 0.002),
    4: (0.326, 0.008, 0.126, 0.002),
}
