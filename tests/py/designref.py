"""The rows of a flow (mp2csv's CSV) as columns, and the model matrix of
psflow term names (col, col_LEVEL, products a:b) built from them by hand:
what the independent references share (aipw_ref, ipw_sandwich_ref,
xgb_ref)."""
import csv

import numpy as np


def load(path):
    """(rows, numeric columns as arrays, text columns as lists)."""
    rows = list(csv.DictReader(open(path)))
    numeric, cats = {}, {}
    for k in rows[0]:
        try:
            numeric[k] = np.array([float(r[k]) for r in rows])
        except ValueError:
            cats[k] = [r[k] for r in rows]
    return rows, numeric, cats


def factor(numeric, cats, name):
    """A numeric column, or the indicator of a level (col_LEVEL)."""
    if name in numeric:
        return numeric[name]
    for c, values in cats.items():
        if name.startswith(c + "_") and name[len(c) + 1:] in set(values):
            level = name[len(c) + 1:]
            return np.array([v == level for v in values], float)
    raise KeyError(name)


def matrix(numeric, cats, terms, n, intercept=True):
    """The columns of the terms (a:b the product of its factors)."""
    cols = [np.prod([factor(numeric, cats, f) for f in term.split(":")], axis=0) for term in terms]
    return np.column_stack(([np.ones(n)] if intercept else []) + cols)
