"""What the book's pages say first: each results chapter's findings (two to four sentences whose
every number is computed from the records), the landing page's verdicts and the numbers of its
prose, the grid exceptions as a table, and the note shown only when a table lacks records."""

from __future__ import annotations

import collections
import html
import inspect

import numpy as np
import pandas as pd

from hmf import data, experiments, metrics, paper, registry, split
from hmf.experiments import grids
from hmf.experiments.selection import LOWER_IS_BETTER
from hmf.profiles import get_profile
from hmf.report import common, tables
from hmf.report.common import (
    DATASETS,
    DEPTHS,
    HMF,
    METRICS,
    dataset_label,
    rows_of,
    substitute_label,
)
from hmf.report.diagnostics import weight_decay_spread
from hmf.report.tables import TABLE1_FIELDS, depth_summary, table1

_join = common.join  # "a, b and c"
VERDICT_MARKS = {  # a symbol beside the word: the verdict never rests on colour alone
    "reproduced": "✓",
    "partly": "◐",
    "not reproduced": "✗",
    "not computed": "–",
}


_RATINGS = {"validation": "validation rating", "test": "test rating", "train": "training rating"}


def _count(n: int, noun: str) -> str:
    """``1 user``, ``3 items`` (``validation`` and ``test`` counts are of ratings)."""
    noun = _RATINGS.get(noun, noun.removesuffix("s"))
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def selected_means(frame: pd.DataFrame, dataset: str, metric: str) -> dict[str, dict]:
    """Per model of one data set's records: the selected configuration's mean test ``metric``
    (``mean``, ``std``), its mean validation value (``validation``) and median ``epochs``."""
    part = rows_of(frame, dataset)
    if not len(part):
        return {}
    chosen = experiments.select(part, metric)
    out = {}
    for model, rows in chosen.groupby("model", sort=False):
        test = rows[f"test {metric}"]
        out[model] = dict(
            mean=float(test.mean()),
            std=float(test.std(ddof=1)) if len(test) > 1 else float("nan"),
            validation=float(rows[f"validation {metric}"].mean()),
            epochs=float(rows["epochs"].median()),
            seeds=int(rows["seed"].nunique()),
        )
    return out


def _frame(table: str, profile) -> pd.DataFrame:
    return common.table_frame(table, profile)


def _best(values: dict[str, float], metric: str) -> str:
    return (min if LOWER_IS_BETTER[metric] else max)(values, key=values.get)


# -- the landing page -------------------------------------------------------------------------


def verdict_counts(claims: pd.DataFrame) -> dict[str, int]:
    """How many claims got each verdict (the first word(s) of the verdict cell)."""
    counts = dict.fromkeys(VERDICT_MARKS, 0)
    for verdict in claims["verdict"]:
        key = next((k for k in VERDICT_MARKS if str(verdict).startswith(k)), "not computed")
        counts[key] += 1
    return counts


def verdict_html(claims: pd.DataFrame) -> str:
    """The claims table as an HTML table that wraps its text (``table.verdicts``, styled in
    ``book/_static/custom.css``): each cell carries its column's name for the phone layout."""
    columns = (("claim", "Claim"), ("paper", "Paper"), ("ours", "This build"))
    rows = []
    for claim, row in claims.iterrows():
        values = {"claim": claim, **row.to_dict()}
        verdict = str(values["verdict"])
        key = next((k for k in VERDICT_MARKS if verdict.startswith(k)), "not computed")
        cells = [
            f'<td data-label="{label}">{html.escape(str(values[name]))}</td>'
            for name, label in columns
        ]
        cells.append(
            f'<td data-label="Verdict" class="verdict verdict-{key.replace(" ", "-")}">'
            f'<span aria-hidden="true">{VERDICT_MARKS[key]}</span> {html.escape(verdict)}</td>'
        )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{label}</th>" for _, label in columns) + "<th>Verdict</th>"
    return (
        '<table class="verdicts"><colgroup><col class="c-claim"><col class="c-paper">'
        '<col class="c-ours"><col class="c-verdict"></colgroup>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def landing(claims: pd.DataFrame, profile=None) -> dict[str, str]:
    """The numbers and sentences of the landing page's prose, as glue names -> text."""
    counts, name = verdict_counts(claims), common.profile_name(profile)
    accuracy = _frame("table3a", name)
    reference = _frame("reference", name)
    gaps = _hmf_against_paper(accuracy)
    return {
        "n_claims": str(len(claims)),
        "n_reproduced": str(counts["reproduced"]),
        "n_partly": str(counts["partly"]),
        "n_not_reproduced": str(counts["not reproduced"]),
        "n_not_computed": str(counts["not computed"]),
        "profile": name,
        "n_records": f"{len(experiments.load_records(experiments.default_results_dir(), name)):,}",
        "hmf_agreement": _hmf_agreement(accuracy),
        "hmf_gap": f"{max(abs(o - t) for o, t in gaps.values()):.3f}" if gaps else "(no records)",
        "reproduced_claims": "\n".join(
            f"- {claim}: {row['ours']}."
            for claim, row in claims.iterrows()
            if str(row["verdict"]).startswith("reproduced")
        ),
        "ranking_differs": ranking_differs(accuracy),
        "mf_reason": mf_against_reference(accuracy, reference),
        "data_reason": _data_reason(),
    }


def _hmf_against_paper(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Per rating data set with HMF records: HMF's mean test RMSE and the paper's."""
    out = {}
    for dataset in DATASETS["rating"]:
        ours = selected_means(frame, dataset, "rmse").get("hmf")
        theirs = paper.TABLE3_RATING.get((dataset, "hmf"), {}).get("rmse")
        if ours is not None and theirs is not None:
            out[dataset] = (ours["mean"], theirs)
    return out


def _hmf_agreement(frame: pd.DataFrame) -> str:
    """HMF's test RMSE per rating data set against the paper's, and the largest gap."""
    gaps = _hmf_against_paper(frame)
    if not gaps:
        return "No HMF records under this profile yet."
    parts = [f"{o:.3f} on {dataset_label(d)} (paper: {t:.3f})" for d, (o, t) in gaps.items()]
    return (
        f"{registry.label('hmf')}'s own test RMSE is {_join(parts)}: "
        f"within {max(abs(o - t) for o, t in gaps.values()):.3f} of the paper's on every data set."
    )


def ranking_differs(frame: pd.DataFrame) -> str:
    """Where our lowest-RMSE method is not the paper's (ML-100K and ML-1M, whose claims are about
    the ranking of methods): both methods, ours beside the paper's."""
    sentences = []
    for dataset in DATASETS["rating"][:2]:
        ours = {m: v["mean"] for m, v in selected_means(frame, dataset, "rmse").items()}
        theirs = {
            m: paper.TABLE3_RATING[(dataset, m)]["rmse"]
            for m in registry.RATING_METHODS
            if (dataset, m) in paper.TABLE3_RATING
        }
        if len(ours) < len(registry.RATING_METHODS):
            continue
        best, their_best = _best(ours, "rmse"), _best(theirs, "rmse")
        if best != their_best:
            sentences.append(
                f"On {dataset_label(dataset)} the lowest RMSE is {registry.label(best)}'s "
                f"({ours[best]:.3f}; paper: {theirs[best]:.3f}), not "
                f"{registry.label(their_best)}'s ({ours[their_best]:.3f}; paper: "
                f"{theirs[their_best]:.3f})."
            )
    return " ".join(sentences) or "Every rating data set ranks the methods as the paper does."


def mf_against_reference(frame: pd.DataFrame, reference: pd.DataFrame) -> str:
    """The paper's MF baseline as run here beside an outside library's unbiased MF."""
    pairs = []
    for dataset in DATASETS["rating"]:
        ours = selected_means(frame, dataset, "rmse").get("mf")
        outside = selected_means(reference, dataset, "rmse").get("ref-mf")
        if ours and outside:
            pairs.append((dataset, ours["mean"], outside["mean"]))
    if not pairs:
        return ""
    text = _join([f"{o:.3f} against {r:.3f} on {dataset_label(d)}" for d, o, r in pairs])
    if all(o > r for _, o, r in pairs):
        return (
            f"The paper's {registry.label('mf')} baseline (AdamW, no biases), as run here, has a "
            f"higher test RMSE than an outside library's unbiased SGD MF on the same split "
            f"({text}): the baselines, more than HMF, are where the comparisons part."
        )
    return (
        f"The paper's {registry.label('mf')} baseline as run here, against an outside library's "
        f"unbiased SGD MF on the same split: {text}."
    )


def _data_reason() -> str:
    """Table 1's copies: which data sets differ from the paper's and by how much."""
    frame = table1(tuple(paper.TABLE1))
    parts = []
    for label, row in frame.iterrows():
        if row["copy"] == "missing":
            parts.append(f"{label} is not available to this build")
            continue
        diffs = [
            _count(abs(int(row[f]) - int(row[f"paper {f}"])), f)
            for f in TABLE1_FIELDS[:-1]
            if pd.notna(row[f]) and pd.notna(row[f"paper {f}"]) and row[f] != row[f"paper {f}"]
        ]
        if diffs:
            parts.append(f"the {label} copy ({row['copy']}) differs by {_join(diffs)}")
    if not parts:
        return "Every data set's split matches the paper's Table 1 exactly."
    return "Data: " + "; ".join(parts) + "."


def protocol_values(profile=None) -> dict[str, str]:
    """The protocol's numbers for the chapters' prose: seeds, patience, epoch caps, candidates
    per ranked user, Tukey's α, the ranking data's least training interactions per user, and
    the hardware the profile's records ran on."""
    p = get_profile(common.profile_name(profile))
    alpha = inspect.signature(experiments.tukey_against).parameters["alpha"].default
    return {
        "n_seeds": str(len(p.seeds)),
        "patience": str(p.patience),
        "max_epochs_rating": str(p.max_epochs_rating),
        "max_epochs_ranking": str(p.max_epochs_ranking),
        "candidates": str(metrics.N_NEGATIVES + 1),
        "alpha": f"{alpha:g}",
        "min_train": str(
            inspect.signature(split.implicit_split).parameters["min_train_interactions"].default
        ),
        "hardware": hardware(p.name),
    }


def hardware(profile=None) -> str:
    """Where the profile's records ran: devices, with the number of records and the software."""
    found = experiments.load_records(
        experiments.default_results_dir(), common.profile_name(profile)
    )
    groups = collections.Counter()
    for r in found:
        env = r.environment or {}
        device = str(env.get("device", "unknown"))
        jax = env.get("versions", {}).get("jax")
        where = (
            f"a {env.get('cpu_count', '?')}-core {env.get('machine', '')} CPU".replace("  ", " ")
            if device.startswith("cpu")
            else device.removeprefix("gpu:")
        ) + (f" (JAX {jax})" if jax else "")
        groups[where] += 1
    if not groups:
        return "no records yet"
    return _join([f"{n:,} on {where}" for where, n in groups.most_common()])


# -- chapters ----------------------------------------------------------------------------------


def box(sentences: list[str]) -> str:
    """A chapter's findings as one Markdown paragraph."""
    return " ".join(s for s in sentences if s)


def datasets_findings(names=tuple(paper.TABLE1)) -> str:
    """The data chapter: which data sets reproduce Table 1 exactly, which differ, which are gone."""
    frame = table1(names)
    exact, differ, gone = [], [], []
    for label, row in frame.iterrows():
        if row["copy"] == "missing":
            gone.append(label)
            continue
        counts = [f for f in TABLE1_FIELDS[:-1] if pd.notna(row[f"paper {f}"])]
        off = {
            f: int(row[f]) - int(row[f"paper {f}"]) for f in counts if row[f] != row[f"paper {f}"]
        }
        if off:
            largest = max(off, key=lambda f: abs(off[f]) / max(1, int(row[f"paper {f}"])))
            share = abs(off[largest]) / int(row[f"paper {largest}"])
            differ.append(
                f"{label} ({row['copy']}) differs in {len(off)} of {len(counts)} counts, "
                f"at most by {share:.1%} ({largest})"
            )
        else:
            exact.append(label)
    sentences = []
    if exact:
        sentences.append(
            f"{_join(exact)} reproduce every count of the paper's Table 1 "
            f"({frame.loc[exact[0], 'users']:,} users and {frame.loc[exact[0], 'items']:,} items "
            f"for {exact[0]})."
        )
    if differ:
        text = _join(differ)
        sentences.append(text[0].upper() + text[1:] + ".")
    if gone:
        sentences.append(f"{_join(gone)} is not available to this build; its column is a gap.")
    return box(sentences)


def accuracy_findings(profile=None) -> str:
    """Table 3: HMF against the paper, the best method per data set, MF, and ranking."""
    name = common.profile_name(profile)
    frame, reference = _frame("table3a", name), _frame("reference", name)
    sentences = [_hmf_agreement(frame)]
    best = []
    for dataset in DATASETS["rating"]:
        ours = {m: v["mean"] for m, v in selected_means(frame, dataset, "rmse").items()}
        if ours:
            b = _best(ours, "rmse")
            best.append(f"{registry.label(b)} on {dataset_label(dataset)} ({ours[b]:.3f})")
    if best:
        sentences.append(f"The lowest test RMSE is {_join(best)}.")
    sentences.append(mf_against_reference(frame, reference))
    sentences.append(ranking_sentence(_frame("table3b", name)))
    return box(sentences)


def _setting(config: dict) -> str:
    """A configuration in words: ``400 user and 400 item clusters, lr 0.0001, weight decay
    0.01``."""
    words = []
    if "user_clusters" in config and "item_clusters" in config:
        words.append(
            f"{int(config['user_clusters']):,} user and {int(config['item_clusters']):,} item "
            "clusters"
        )
    for key, value in sorted(config.items()):
        if not key.endswith("_clusters"):
            shown = f"{value:g}" if isinstance(value, (int, float)) else str(value)
            words.append(f"{key.replace('_', ' ')} {shown}")
    return ", ".join(words)


def paper_rule_sentences(items: list) -> str:
    """The paper's selection rule over every Table 2 HMF configuration run, per rating data set
    in :func:`~hmf.report.diagnostics.paper_rule`'s ``items``: how much of the grid that is, and
    whether its pick and test RMSE differ from the book grid's. HMF's alone: its grid is the one
    the paper-profile sweeps extend."""
    sentences = []
    for item in (i for i in items if i["method"] == "hmf"):
        done, total = item["done"], item["total"]
        method = registry.label(item["method"])
        pick = {name: p["summary"] for name, p in item["picks"].items()}
        words = {name: _setting(p["config"]) for name, p in item["picks"].items()}
        rmse = {name: common.fmt(s["rmse"], s["rmse std"]) for name, s in pick.items()}
        where = f"On {dataset_label(item['dataset'])}, "
        if total is not None and done == total:
            scope = f"{where}all {total} of Table 2's {method} configurations have every seed, "
            rule = "and the paper's rule over them"
        else:
            grid = "Table 2's" if total is None else f"Table 2's {total}"
            scope = f"{where}{done} of {grid} {method} configurations have every seed so far; "
            rule = "on that part the paper's rule"
        if pick["paper protocol"]["config"] == pick["book"]["config"]:
            tail = f"{rule} keeps the book grid's pick (test RMSE {rmse['book']})"
        else:
            change = pick["paper protocol"]["rmse"] - pick["book"]["rmse"]
            moved = f"{abs(change):.4f} {'higher' if change > 0 else 'lower'}"
            tail = (
                f"{rule} picks {words['paper protocol']} (test RMSE {rmse['paper protocol']}) "
                f"instead of the book grid's {words['book']} ({rmse['book']}): "
                + (moved if round(abs(change), 4) else "equal to four decimals")
            )
        sentences.append(f"{scope}{tail}.")
    return box(sentences) or "No paper-profile records yet."


def ranking_sentence(frame: pd.DataFrame) -> str:
    """Table 3 (b): the ranking data set that has records, and who is best on each metric."""
    metrics, model = METRICS["ranking"], HMF["ranking"]
    for dataset in DATASETS["ranking"]:
        part = rows_of(frame, dataset)
        chosen = experiments.select(part, metrics[0]) if len(part) else part  # by HR@10, as Table 3
        if not len(chosen) or model not in set(chosen["model"]):
            continue
        means = {m: chosen.groupby("model")[f"test {m}"].mean().to_dict() for m in metrics}
        label = dataset_label(dataset.removesuffix("-implicit"))
        label += " (implicit substitute)" if dataset.endswith("-implicit") else ""
        cells = []
        for metric, short in zip(metrics, ("HR@10", "MRR@10")):
            values = means[metric]
            best = _best(values, metric)
            cells.append(
                f"{short} {values[model]:.3f}"
                + (" (best)" if best == model else f" ({registry.label(best)} {values[best]:.3f})")
            )
        return f"On {label}, {registry.label(model)} has {_join(cells)}."
    return "No ranking records under this profile yet."


def protocol_findings(profile=None) -> str:
    """Ours: sampled against full ranking, per ranking data set with full-ranking records -
    BPR-HMF's and most-popular's HR@10 under both protocols, the best model under full ranking,
    and how many model pairs reverse their order from one protocol to the other."""
    name = common.profile_name(profile)
    frame, flips = _frame("protocols", name), tables.ranking_flips(name)
    model, popular, sentences = HMF["ranking"], "most-popular", []
    for dataset in DATASETS["ranking"]:
        chosen = tables.protocol_summary(frame, dataset)
        if model not in chosen or popular not in chosen:
            continue
        label = substitute_label(dataset)
        full = {m: s["full_hit_ratio@10"] for m, s in chosen.items()}
        best = max(full, key=full.get)
        ours, pop = chosen[model], chosen[popular]
        reversed_ = [
            f"{row['pairs reversed']} model pairs in {metric}"
            for (d, metric), row in flips.iterrows()
            if d == dataset_label(dataset)
        ]
        try:
            size = f" ({_count(len(split.split_for(dataset).test), 'test interactions')})"
        except data.DataError:  # records without the data: the sentence stands without it
            size = ""
        sentences.append(
            f"On the {label}{size}, "
            f"{registry.label(model)}'s HR@10 is {ours['hit_ratio@10']:.3f} "
            f"sampled and {ours['full_hit_ratio@10']:.3f} against every unseen item, most "
            f"popular's {pop['hit_ratio@10']:.3f} and {pop['full_hit_ratio@10']:.3f}; the best "
            f"under full ranking is {registry.label(best)}, {full[best]:.3f}"
            + (
                f", and {_join(reversed_)} reverse their order between the two protocols."
                if reversed_
                else "."
            )
        )
    return box(sentences) or "No full-ranking records under this profile yet."


def loss_curve_findings(profile=None) -> str:
    """Fig. 2: epochs to early stopping, MF on Ciao, and how little weight decay moves HMF."""
    name = common.profile_name(profile)
    frame = _frame("table3a", name)
    epochs, ciao = [], ""
    for dataset in DATASETS["rating"]:
        s = selected_means(frame, dataset, "rmse")
        if "mf" not in s or "hmf" not in s:
            continue
        epochs.append(
            f"{s['hmf']['epochs']:.0f} epochs on {dataset_label(dataset)} "
            f"({registry.label('mf')}: {s['mf']['epochs']:.0f})"
        )
        if dataset == "ciao":
            ciao = (
                f"On {dataset_label(dataset)}, {registry.label('mf')}'s best mean validation "
                f"RMSE is {s['mf']['validation']:.3f} and {registry.label('hmf')}'s "
                f"{s['hmf']['validation']:.3f}."
            )
    sentences = []
    if epochs:
        sentences.append(
            f"The selected {registry.label('hmf')} runs stop early after a median of "
            f"{_join(epochs)}."
        )
    sentences += [ciao, weight_decay_sentence(name)]
    return box(sentences) or "No records under this profile yet."


def weight_decay_sentence(profile=None) -> str:
    """How far HMF's weight decays move its mean validation RMSE at the selected clusters and
    learning rate, per rating data set (:func:`~hmf.report.diagnostics.weight_decay_spread`)."""
    hmf = [r for r in common.records("table3a", profile)[0] if r.model == "hmf"]
    spread = weight_decay_spread(experiments.records_frame(hmf), DATASETS["rating"])
    if not len(spread):
        return ""
    gaps = [f"{row['gap']:.4f} on {label}" for label, row in spread.iterrows()]
    return (
        f"Weight decay barely acts on {registry.label('hmf')}: at the selected clusters and "
        f"learning rate the mean validation RMSEs of its weight decays lie within {_join(gaps)}, "
        "so most of its curves coincide."
    )


def ranking_scaling() -> str:
    """How Table 2's ranking cluster counts (DIGINETICA's users and items over k) are scaled."""
    users, items = (paper.TABLE1["diginetica"][k] for k in ("users", "items"))
    ks = ", ".join(str(k) for k in grids.RANKING_DIVISORS)
    return (
        f"Table 2's cluster and prototype counts for ranking are ⌈{users:,}/k⌉ users and "
        f"⌈{items:,}/k⌉ items, k ∈ {{{ks}}} (DIGINETICA's numbers of users and items); on the "
        "substitutes they are the same fractions of their own numbers. On the "
        f"{_join([substitute_label(d) for d in grids.UNSCALED_BOOK])}, where a scaled pair has "
        f"fewer than {grids.HANDFUL} user clusters, DIGINETICA's own pair at the same k is run "
        "beside it (for BPR-HMF and ProtoMF alike)."
    )


def ease_choice(profile=None) -> str:
    """EASE's selected λ on each ranking data set with records, and whether it is an end of
    its grid (:data:`~hmf.models.ranking_baselines.EASE_LAMBDAS`)."""
    name = common.profile_name(profile)
    frame, parts = _frame("protocols", name), []
    lambdas = sorted(float(c["ease_lambda"]) for c in grids.grid(name, "ease", 1, 1, dataset=""))
    for dataset in DATASETS["ranking"]:
        part = rows_of(frame, dataset, "ease")
        if not len(part):
            continue
        lam = float(experiments.select(part, METRICS["ranking"][0])["config.ease_lambda"].iloc[0])
        end = " (the grid's largest)" if lam == lambdas[-1] else ""
        end = " (the grid's smallest)" if lam == lambdas[0] else end
        parts.append(f"λ = {lam:g} on the {substitute_label(dataset)}{end}")
    grid_text = ", ".join(f"{lam:g}" for lam in lambdas)
    chosen = f"; the selection picked {_join(parts)}" if parts else ""
    return f"EASE's λ grid is {{{grid_text}}}{chosen}."


def full_ranking_cost() -> str:
    """What full ranking scores on each ranking data set available here: its test users times
    its items (every candidate of every test user), against the sampled protocol's 100 per
    test interaction."""
    parts = []
    for dataset in DATASETS["ranking"]:
        try:
            s = split.split_for(dataset)
        except data.DataError:
            continue
        users = s.test["user"].nunique()
        parts.append(
            f"{users:,} test users × {s.n_items:,} items = {users * s.n_items:,} scores on the "
            f"{substitute_label(dataset)}, against {len(s.test) * (1 + metrics.N_NEGATIVES):,} "
            "for the sampled protocol"
        )
    return _join(parts) if parts else "no ranking data set is available here"


def ranking_cluster_choice(profile=None) -> str:
    """Which cluster (prototype) counts the selection picked on each ranking data set with
    records, and whether they are scaled (Table 2's rule) or DIGINETICA's own."""
    name, parts = common.profile_name(profile), []
    frame = _frame("table3b", name)
    for dataset in DATASETS["ranking"]:
        try:
            sizes = split.split_for(dataset)
        except data.DataError:
            continue
        scaled = grids.ranking_clusters(sizes.n_users, sizes.n_items)
        for model, keys in (
            ("bpr-hmf", ("user_clusters", "item_clusters")),
            ("protomf", ("user_prototypes", "item_prototypes")),
        ):
            part = rows_of(frame, dataset, model)
            if not len(part):
                continue
            chosen = experiments.select(part, METRICS["ranking"][0]).iloc[0]
            pair = tuple(int(chosen[f"config.{k}"]) for k in keys)
            kind = "scaled" if pair in scaled else "DIGINETICA's own"
            noun = "clusters" if model == "bpr-hmf" else "prototypes"
            parts.append(
                f"{registry.label(model)} {pair[0]} user and {pair[1]} item {noun} on the "
                f"{substitute_label(dataset)} ({kind})"
            )
    return f"The selection picked {_join(parts)}." if parts else "No ranking selection yet."


def case_study_findings(config: dict, dataset: str, result, affinity, parts, prediction) -> str:
    """The case study's fit, its strongest cluster pair, and Eq. (11) adding up."""
    values = affinity.to_numpy()
    s, t = np.unravel_index(np.argmax(values), values.shape)
    error = abs(float(parts["contribution"].sum()) - float(prediction))
    return box(
        [
            f"{registry.label('hmf')} with {config['user_clusters']:,} user and "
            f"{config['item_clusters']:,} item clusters reaches a validation RMSE of "
            f"{result.validation['rmse']:.3f} on {dataset_label(dataset)} after "
            f"{result.epochs} epochs.",
            f"Cluster-pair affinities range from {values.min():.2f} to {values.max():.2f}; the "
            f"strongest pair is user cluster {affinity.index[s]} with item cluster "
            f"{affinity.columns[t]}.",
            f"For the recommendation explained below, the {len(parts):,} cluster-pair terms of "
            f"Eq. (11) add up to the predicted rating {float(prediction):.3f} "
            f"(difference {error:.1e}).",
        ]
    )


def depth_findings(profile=None) -> str:
    """Table 6: the range of test RMSE over depths, and which depths differ from depth one."""
    name = common.profile_name(profile)
    frame, parts = _frame("table6a", name), []
    for dataset in DATASETS["rating"]:
        summary = depth_summary(frame, dataset, ["rmse"])
        rows = {d: summary[d] for d in DEPTHS if d in summary}
        if 1 not in rows or len(rows) < 2:
            continue
        values = [rows[d]["rmse"] for d in rows]
        worse = [str(d) for d in rows if d != 1 and rows[d]["rmse dagger"]]
        parts.append(
            f"{dataset_label(dataset)} {min(values):.3f}–{max(values):.3f} ("
            + (
                f"{'depths' if len(worse) > 1 else 'depth'} {_join(worse)} significantly "
                "different from depth 1"
                if worse
                else "no depth significantly different from depth 1"
            )
            + ")"
        )
    sentences = []
    if parts:
        sentences.append(f"{registry.label('hmf')}'s test RMSE over depths 1–4: {_join(parts)}.")
        theirs = [
            d for d in DATASETS["rating"] if any(paper.TABLE6_RATING[(d, p)][2] for p in DEPTHS[1:])
        ]
        sentences.append(
            "The paper marks deeper hierarchies as significantly different only on "
            f"{_join([dataset_label(d) for d in theirs])}."
        )
    ranking = _frame("table6b", name)
    for dataset in DATASETS["ranking"]:
        summary = depth_summary(ranking, dataset, list(METRICS["ranking"]))
        if summary:
            hr = {d: summary[d]["hit_ratio@10"] for d in DEPTHS if d in summary}
            low, high = min(hr, key=hr.get), max(hr, key=hr.get)
            sentences.append(
                f"{registry.label(HMF['ranking'])}'s HR@10 on the {substitute_label(dataset)} "
                "ranges from "
                f"{hr[low]:.3f} (depth {low}) to {hr[high]:.3f} (depth {high})."
            )
            break
    return box(sentences) or "No depth records under this profile yet."


# -- details -----------------------------------------------------------------------------------


def _values(values) -> str:
    return "{" + ", ".join(f"{v:g}" for v in values) + "}"


def grid_exceptions(profile=None) -> pd.DataFrame:
    """Where a data set's ``book`` grid departs from the others' (``hmf.experiments.grids``),
    and what the left-out runs, kept as ``paper``-profile records, measured against the book's
    selection: their best mean validation RMSE and median epochs (iterations for eTREE)."""
    name = common.profile_name(profile)
    book = _frame("table3a", name)
    kept = experiments.records_frame(
        experiments.load_records(experiments.default_results_dir(), "paper", study="accuracy")
    )
    cases = [
        (d, "etree", "lam", grids.ETREE_BOOK_VALUES, v) for d, v in grids.ETREE_BOOK_LAMBDAS.items()
    ] + [(d, "hmf", "lr", (1e-2, 1e-3), v) for d, v in grids.HMF_BOOK_LEARNING_RATES.items()]
    symbols = {"lam": "λ", "lr": "learning rate"}
    rows = []
    for dataset, model, key, usual, here in cases:
        left = [v for v in usual if v not in here]
        row = {
            "data set": dataset_label(dataset),
            "model": registry.label(model),
            "book grid": f"{symbols[key]} ∈ {_values(here)}",
            "elsewhere": f"{symbols[key]} ∈ {_values(usual)}",
        }
        mine = selected_means(book, dataset, "rmse").get(model)
        out = rows_of(kept, dataset, model)
        out = out[out[f"config.{key}"].isin(left)] if len(out) else out
        if mine is None or not len(out):
            rows.append(row | {"left-out runs": "none kept"})
            continue
        means = out.groupby("config")["validation rmse"].mean()
        row |= {
            "left-out runs": f"{len(out)} ({out['config'].nunique()} configurations)",
            "their best mean validation RMSE": f"{means.min():.4f}",
            "book selection's": f"{mine['validation']:.4f}",
            "their median epochs": f"{out['epochs'].median():.0f}",
            "selection's median epochs": f"{mine['epochs']:.0f}",
        }
        rows.append(row)
    return pd.DataFrame(rows).set_index(["data set", "model"]).fillna("")


def missing_note(table: str, profile=None):
    """A Markdown note naming the data sets of ``table`` without records and the command that
    computes them; None (the cell shows nothing) when every data set has records."""
    from IPython.display import Markdown

    name = common.profile_name(profile)
    found, missing = common.records(table, name)
    frame, lines = experiments.records_frame(found), []
    study = common.TABLES[table][1]
    flag = "" if study == "accuracy" else f" --study {study}"
    for dataset in DATASETS[common.task_of(common.TABLES[table][0])]:
        base = dataset.removesuffix("-implicit")
        if dataset in missing:
            spec = data.get_spec(base)
            how = (
                f"`hmf data fetch {base}`"
                if spec.archive
                else html.escape(" ".join(spec.manual.split()), quote=False).replace("$", "\\$")
            )
            lines.append(f"- **{dataset_label(base)}**: the data are not available here ({how}).")
        elif not len(rows_of(frame, dataset)):
            lines.append(
                f"- **{dataset}**: no {name!r} records yet "
                f"(`hmf sweep --profile {name}{flag} --dataset {dataset} --model …`)."
            )
    if not lines:
        return None
    return Markdown("Rows reading *not run* have no records:\n\n" + "\n".join(lines))
