"""The cluster measures (hmf.clusters): planted structure is found far beyond the null, random
and shuffled labels sit at the null, matching is exact and invariant to relabelling, and bad
input is one clear error."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from conftest import real_data_dir

from hmf import clusters as C
from hmf.data import DataError
from hmf.errors import UsageError
from hmf.experiments import clusters as study
from hmf.models import embeddings as E
from hmf.report import clusters as R

GROUPS, PER_GROUP = 8, 25
N = GROUPS * PER_GROUP


def planted(noise: float = 0.1, seed: int = 0) -> tuple[C.Clustering, np.ndarray]:
    """Soft memberships concentrated on each object's planted group, and the groups."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(GROUPS), PER_GROUP)
    p = rng.random((N, GROUPS)) * noise
    p[np.arange(N), groups] += 1.0
    return C.Clustering(p / p.sum(axis=1, keepdims=True)), groups


def test_planted_clusters_are_coherent_far_beyond_the_null():
    clustering, groups = planted()
    out = C.coherence(clustering, groups, draws=99, seed=0)
    assert out["clusters"] == GROUPS
    assert out["observed"] == pytest.approx(1.0)  # every member pair shares its label
    assert out["null"] < 0.3
    assert out["p_value"] == pytest.approx(1 / 100)  # the smallest a 99-draw test can give
    assert out["share_beyond_null95"] == 1.0


def test_shuffled_labels_and_random_clusterings_score_at_the_null():
    clustering, groups = planted()
    shuffled = np.random.default_rng(1).permutation(groups)
    out = C.coherence(clustering, shuffled, draws=199, seed=0)
    assert abs(out["observed"] - out["null"]) < 0.1
    assert out["p_value"] > 0.05
    rand = C.random_clustering(N, GROUPS, seed=3)
    out = C.coherence(rand, groups, draws=199, seed=0)
    assert abs(out["lift"] - 1) < 0.3 and out["p_value"] > 0.05


def test_p_values_and_shares_lie_in_range_and_the_null_is_deterministic():
    clustering, groups = planted(noise=2.0)
    first = C.coherence(clustering, groups, draws=49, seed=5)
    again = C.coherence(clustering, groups, draws=49, seed=5)
    other = C.coherence(clustering, groups, draws=49, seed=6)
    assert first == again
    assert first["null_mean"] != other["null_mean"]
    for out in (first, other):
        assert 1 / 50 <= out["p_value"] <= 1.0
        assert 0.0 <= out["share_beyond_null95"] <= 1.0
        assert len(out["scores"]) == out["clusters"] == len(out["null95"])


def test_genres_as_label_sets_use_jaccard():
    labels = C.genre_matrix(["Action|Comedy", "Action", "Drama", "Action|Comedy"])
    sets, sizes = np.array([[0, 1, 3], [1, 2, 0]]), np.array([3, 2])
    # pairs (0,1): 1/2, (0,3): 1, (1,3): 1/2 -> mean 2/3; pair (1,2): 0
    assert C.set_coherence(labels.astype(np.float32), sets, sizes) == pytest.approx([2 / 3, 0.0])


def test_popularity_null_keeps_each_object_within_its_stratum():
    counts = np.arange(100)
    strata = C.popularity_strata(counts, bins=5)
    assert np.bincount(strata).tolist() == [20] * 5
    perms = C.permutations(100, 10, seed=0, strata=strata)
    assert (strata[perms] == strata[None, :]).all()
    assert all(sorted(p) == list(range(100)) for p in perms)


def test_hungarian_matching_recovers_a_permuted_labelling_exactly():
    clustering, _ = planted()
    perm = np.random.default_rng(2).permutation(GROUPS)
    relabelled = C.Clustering(clustering.membership[:, perm])
    rows, cols = C.match(clustering, relabelled)
    assert (perm[cols] == rows).all()


def test_stability_is_one_for_identical_and_near_zero_for_independent_clusterings():
    clustering, _ = planted()
    items, _ = planted(seed=4)
    aff = np.random.default_rng(0).normal(size=(GROUPS, GROUPS))
    same = C.stability(clustering, clustering, aff, aff, other_a=items, other_b=items)
    assert same["nmi"] == pytest.approx(1.0) and same["ari"] == pytest.approx(1.0)
    assert same["top_overlap"] == 1.0 and same["affinity_r"] == pytest.approx(1.0)
    a, b = C.random_clustering(3000, 5, seed=0), C.random_clustering(3000, 5, seed=1)
    apart = C.stability(a, b)
    assert abs(apart["ari"]) < 0.01 and apart["nmi"] < 0.01


def test_stability_is_invariant_to_relabelling():
    a, b = planted(noise=1.0, seed=0)[0], planted(noise=1.0, seed=1)[0]
    perm = np.random.default_rng(3).permutation(GROUPS)
    aff = np.random.default_rng(0).normal(size=(GROUPS, GROUPS))
    items = planted(noise=1.0, seed=2)[0]
    base = C.stability(a, b, aff, aff, other_a=items, other_b=items)
    moved = C.stability(
        a, C.Clustering(b.membership[:, perm]), aff, aff[perm], other_a=items, other_b=items
    )
    assert moved == pytest.approx(base)


def test_preference_test_finds_a_planted_gender_split_and_not_a_shuffled_one():
    users, groups = planted()
    male = groups < GROUPS // 2  # the first half of the user clusters are men
    aff = np.where(np.arange(GROUPS)[:, None] < GROUPS // 2, 1.0, -1.0) * np.array(
        [1.0, -1.0, 0.5, -0.5]
    )
    out = C.preference_test(aff, users, male, draws=99, seed=0)
    assert out["observed"] > 0.9 and out["p_value"] == pytest.approx(1 / 100)
    shuffled = np.random.default_rng(0).permutation(male)
    out = C.preference_test(aff, users, shuffled, draws=99, seed=0)
    assert out["p_value"] > 0.05 and 0 <= out["share_beyond_null95"] <= 1


def test_softness_of_hard_uniform_and_planted_clusterings():
    hard = C.softness(C.random_clustering(50, 5, seed=0))
    assert hard["entropy"] == 0.0 and hard["effective"] == 1.0
    uniform = C.softness(C.Clustering(np.full((50, 5), 0.2)))
    assert uniform["effective"] == pytest.approx(5.0) and uniform["with_mass"] == 5
    assert uniform["occupied"] == 1  # ties go to the lowest cluster number
    planted_ = C.softness(planted()[0])
    assert 1.0 < planted_["effective"] < 4.0 and planted_["effective_clusters"] == pytest.approx(
        GROUPS, rel=0.01
    )


def test_kmeans_nearest_and_member_sets():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = np.repeat(centres, 20, axis=0) + rng.normal(scale=0.1, size=(60, 2))
    fitted, found = C.kmeans(x, 3, seed=0)
    assert C.stability(fitted, C.nearest_clustering(x, centres))["ari"] == pytest.approx(1.0)
    assert C.kmeans(x, 3, seed=0)[1] == pytest.approx(found)  # same seed, same clusters
    sets = C.nearest_clustering(x, centres).member_sets(top=5)
    assert [len(s) for s in sets] == [5, 5, 5]
    first = C.nearest_clustering(x, centres).member_sets(top=20)[0]
    d = ((x[first] - centres[0]) ** 2).sum(1)
    assert (np.diff(d) >= 0).all()  # strongest (closest) first


def test_labels_age_bands_and_decades():
    assert C.age_bands([17, 18, 30, 56, 49]).tolist() == [
        "Under 18",
        "18-24",
        "25-34",
        "56+",
        "45-49",
    ]
    assert C.age_bands(["25-34", "56+"]).tolist() == ["25-34", "56+"]
    assert C.decades(["Toy Story (1995)", "unknown", "Metropolis (1926) "]).tolist() == [
        "1990s",
        "unknown",
        "1920s",
    ]


def test_bad_input_is_one_clear_error():
    clustering, groups = planted()
    labels = groups.astype(object)
    labels[3] = None
    with pytest.raises(UsageError, match="missing for 1 of 200"):
        C.coherence(clustering, labels)
    with pytest.raises(UsageError, match="labels cover 10 objects, the clustering has 200"):
        C.coherence(clustering, groups[:10])
    flat = E.init_flat(jax.random.PRNGKey(0), 5, 3)
    with pytest.raises(UsageError, match="a model without clusters"):
        C.from_hmf(flat)
    with pytest.raises(UsageError, match="k must be <= 60"):
        C.kmeans(np.zeros((60, 2)), 61, seed=0)
    with pytest.raises(UsageError, match="rows must each sum to one"):
        C.Clustering(np.ones((3, 2)))
    with pytest.raises(UsageError, match="two or more members"):
        C.coherence(C.Clustering(np.eye(4)), np.arange(4))
    with pytest.raises(UsageError, match="ages must be numbers"):
        C.age_bands(["old", 3])


def test_nearest_reading_of_a_soft_clustering_takes_the_objects_nearest_each_cluster():
    x = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [0.2, 0.0]])
    centres = np.array([[0.0, 0.0], [5.0, 5.0]])
    soft = C.Clustering(np.full((5, 2), 0.5))  # every object's largest membership: cluster 0
    read = C.nearest_clustering(x, centres, soft.membership)
    assert [s.tolist() for s in read.member_sets(top=2)] == [[0, 1], [2, 3]]
    assert [len(s) for s in soft.member_sets(top=2)] == [2, 0]
    assert (read.membership == soft.membership).all()


@pytest.mark.realdata
@pytest.mark.slow
def test_the_study_on_ml100k_is_resumable_and_deterministic(tmp_path):
    """The smoke profile's study (one seed, a few epochs) end to end: every method's file, a
    rerun that computes nothing, and a recomputed file (model retrained) equal to the first."""
    try:
        paths = study.run_cluster_study(
            "ml-100k", "smoke", root=tmp_path, data_dir=real_data_dir(), progress=None
        )
    except DataError as exc:
        pytest.skip(f"real ml-100k not available: {exc}")
    seeds = [p for p in paths if p.name == "seed0.json"]
    assert sorted(p.parent.name for p in seeds) == sorted(study.METHODS)
    assert all(p.is_file() for p in seeds)  # one seed: no stability files
    first = {p: p.stat().st_mtime_ns for p in seeds}
    study.run_cluster_study(
        "ml-100k", "smoke", root=tmp_path, data_dir=real_data_dir(), progress=None
    )
    assert {p: p.stat().st_mtime_ns for p in seeds} == first  # nothing recomputed

    target = tmp_path / "smoke" / "ml-100k" / "clusters" / "hmf" / "seed0.json"
    before = json.loads(target.read_text())
    target.unlink()
    (tmp_path / "tmp" / "clusters" / "smoke" / "ml-100k" / "hmf-seed0.npz").unlink()
    study.run_cluster_study(
        "ml-100k", "smoke", root=tmp_path, data_dir=real_data_dir(), progress=None
    )
    after = json.loads(target.read_text())
    for volatile in ("seconds", "environment"):
        before.pop(volatile), after.pop(volatile)
    before["fit"].pop("seconds"), after["fit"].pop("seconds")
    assert after == before
    for result in before["coherence"].values():
        assert 0 < result["p_value"] <= 1
    assert before["fit"]["validation_rmse"] == before["fit"]["record_validation_rmse"]
    loaded = study.load_cluster_study(tmp_path, "smoke", "ml-100k")
    assert set(loaded["runs"]) == set(study.METHODS) and not loaded["stability"]


def _write_study(root, coherent: bool, seeds=(0, 1, 2)) -> None:
    """Cluster-study files for a planted data set: HMF's clusters follow the planted groups (or,
    when not ``coherent``, ignore them); the baselines are random clusterings."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(GROUPS), PER_GROUP)
    labels = dict(
        genre=C.one_hot(groups),
        decade=C.one_hot(rng.integers(0, 3, N)),
        gender=C.one_hot(groups % 2),
        age=C.one_hot(rng.integers(0, 4, N)),
        occupation=C.one_hot(rng.integers(0, 5, N)),
        strata=C.popularity_strata(rng.random(N)),
        male=groups % 2 == 0,
    )
    aff = np.where((np.arange(GROUPS)[:, None] % 2 == 0), 1.0, -1.0) * np.linspace(-1, 1, GROUPS)
    base = root / "book" / "planted-set" / "clusters"
    runs = {}
    for method in study.METHODS:
        for seed in seeds:
            if method.startswith("hmf") and coherent:
                clustering = planted(seed=seed)[0]
            else:
                clustering = C.random_clustering(N, GROUPS, seed=seed + 100 * len(method))
            affinity = None if method == "random" else aff
            runs[(method, seed)] = (clustering, affinity)
            payload = dict(
                method=method,
                seed=seed,
                **study._measures(clustering, clustering, affinity, labels, seed),
            )
            study._write_json(base / method / f"seed{seed}.json", payload)
        pairs = [
            dict(
                seeds=[a, b],
                user=C.stability(runs[(method, a)][0], runs[(method, b)][0]),
                item=C.stability(runs[(method, a)][0], runs[(method, b)][0]),
            )
            for a, b in [(seeds[0], seeds[1]), (seeds[0], seeds[2])]
        ]
        study._write_json(base / method / "stability.json", dict(seeds=list(seeds), pairs=pairs))


@pytest.mark.parametrize("coherent, verdict", [(True, "reproduced"), (False, "not reproduced")])
def test_the_chapter_reads_the_study_and_gives_the_verdict(
    tmp_path, monkeypatch, coherent, verdict
):
    monkeypatch.setenv("HMF_RESULTS_DIR", str(tmp_path))
    monkeypatch.setattr(R, "CLUSTER_DATASETS", ("planted-set",))
    _write_study(tmp_path, coherent)
    table = R.cluster_table("book")
    assert list(table.index.get_level_values(1)) == [R.METHOD_LABELS[m] for m in study.METHODS]
    hmf = table.loc[("planted-set", R.METHOD_LABELS["hmf"])]
    assert hmf["seeds p < 0.05 (genres)"] == ("3 / 3" if coherent else "0 / 3")
    ours, found = R.cluster_claim("book")
    assert found == verdict and "k-means on MF" in ours
    findings = R.cluster_findings("book")
    assert findings["verdict"] == verdict and findings["box"].startswith(
        "Coherence: on planted-set"
    )
    assert "planted-set" in R.cluster_closing("book")
    assert R.coherence_table("book").shape == (len(study.METHODS), 5)
    R.coherence_histogram("planted-set", "book")
    R.stability_figure("book")
