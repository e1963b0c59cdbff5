"""The built-in sample: a synthetic consumer-credit default dataset.

``generate_sample(rows, seed, drift)`` returns one row per loan applicant:
an id, four PII columns (name, e-mail, phone, national id), two sensitive
attributes (sex, age band), 20 features (13 numeric, 7 categorical, several
with missing values) and the label ``default`` drawn from a logistic model
over the features plus an unobserved risk factor. ``drift`` moves feature
distributions and the label relationship towards a later period; for a
given seed the random draws do not depend on ``drift``, so drift 0 is
exactly the reference period and larger values move further from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlops_gitops.errors import DataError

ID_COLUMN = "customer_id"
LABEL = "default"
PII_COLUMNS = ("full_name", "email", "phone", "national_id")
SENSITIVE_COLUMNS = ("sex", "age_band")
NUMERIC_FEATURES = (
    "income",
    "loan_amount",
    "loan_term_months",
    "interest_rate",
    "debt_to_income",
    "credit_utilization",
    "months_employed",
    "num_credit_lines",
    "num_late_payments",
    "credit_history_years",
    "num_dependents",
    "savings_balance",
    "num_credit_inquiries",
)
CATEGORICAL_FEATURES = (
    "employment_type",
    "housing",
    "loan_purpose",
    "region",
    "education",
    "marital_status",
    "has_guarantor",
)
COLUMNS = (
    ID_COLUMN,
    *PII_COLUMNS,
    *SENSITIVE_COLUMNS,
    *NUMERIC_FEATURES,
    *CATEGORICAL_FEATURES,
    LABEL,
)
# A later period is a fresh draw: its seed is the reference seed plus this.
LATER_PERIOD_SEED_OFFSET = 1_000_003


@dataclass(frozen=True)
class Categorical:
    """A categorical column: its values, reference mix and the mix shift under drift."""

    values: tuple[str, ...]
    probs: tuple[float, ...]
    drift_logits: tuple[float, ...]

    def probabilities(self, drift: float) -> np.ndarray:
        """Return the category mix at ``drift`` (a softmax shift, valid for any drift)."""
        logits = np.log(np.asarray(self.probs)) + drift * np.asarray(self.drift_logits)
        weights: np.ndarray = np.exp(logits - logits.max())
        return weights / float(weights.sum())

    def draw(self, uniform: np.ndarray, drift: float) -> np.ndarray:
        """Map uniform draws to categories by the inverse CDF of the mix at ``drift``."""
        cdf = np.cumsum(self.probabilities(drift))
        index = np.minimum(np.searchsorted(cdf, uniform, side="right"), len(self.values) - 1)
        return np.asarray(self.values, dtype=object)[index]


CATEGORIES: dict[str, Categorical] = {
    "sex": Categorical(("F", "M"), (0.5, 0.5), (0.0, 0.0)),
    "age_band": Categorical(
        ("18-25", "26-35", "36-45", "46-55", "56-65", "65+"),
        (0.14, 0.24, 0.22, 0.18, 0.13, 0.09),
        (0.5, 0.3, 0.0, -0.1, -0.3, -0.4),
    ),
    "education": Categorical(
        ("secondary", "vocational", "bachelor", "master", "doctorate"),
        (0.32, 0.24, 0.28, 0.13, 0.03),
        (0.2, 0.1, 0.0, -0.1, -0.1),
    ),
    "employment_type": Categorical(
        ("salaried", "self_employed", "contract", "unemployed", "retired"),
        (0.60, 0.13, 0.13, 0.06, 0.08),
        (-0.2, 0.1, 0.4, 0.6, 0.0),
    ),
    "housing": Categorical(
        ("own", "mortgage", "rent", "other"), (0.22, 0.33, 0.40, 0.05), (-0.3, -0.1, 0.3, 0.1)
    ),
    "loan_purpose": Categorical(
        ("debt_consolidation", "home_improvement", "car", "education", "medical", "business"),
        (0.30, 0.16, 0.22, 0.10, 0.08, 0.14),
        (0.5, -0.2, -0.3, 0.0, 0.6, 0.1),
    ),
    "region": Categorical(
        ("north", "south", "east", "west", "central"),
        (0.20, 0.24, 0.18, 0.22, 0.16),
        (-0.3, 0.4, 0.0, -0.2, 0.3),
    ),
    "marital_status": Categorical(
        ("single", "married", "divorced", "widowed"), (0.38, 0.45, 0.13, 0.04), (0.2, -0.1, 0.1, 0)
    ),
    "has_guarantor": Categorical(("yes", "no"), (0.15, 0.85), (-0.3, 0.0)),
}
AGE_RANGES = {
    "18-25": (18, 26),
    "26-35": (26, 36),
    "36-45": (36, 46),
    "46-55": (46, 56),
    "56-65": (56, 66),
    "65+": (66, 80),
}
# Share of missing values per column in the reference period.
MISSING_RATES = {
    "income": 0.04,
    "months_employed": 0.05,
    "credit_utilization": 0.04,
    "savings_balance": 0.10,
    "debt_to_income": 0.02,
    "num_credit_inquiries": 0.03,
    "education": 0.03,
    "employment_type": 0.02,
    "housing": 0.01,
}
# Calibrated so that the reference period defaults at about 20%.
INTERCEPT = -2.05
# Word lists read better as text than as 90 quoted items (hence the noqa).
FIRST_NAMES = {
    "F": tuple(
        "Ada Amira Beatriz Chloe Daria Elena Fatima Grace Hana Ines Julia Kemi Lena Maria "  # noqa: SIM905
        "Nadia Olga Priya Rosa Sofia Tara Uma Vera Yara Zoe".split()
    ),
    "M": tuple(
        "Aaron Bruno Carlos David Emil Felix Georg Hugo Ivan Jonas Kofi Luca Mateo Nikhil "  # noqa: SIM905
        "Omar Pavel Rafael Samuel Tomas Viktor Wei Yusuf Zane Anton".split()
    ),
}
LAST_NAMES = tuple(
    "Abara Berg Costa Dubois Eriksen Fischer Garcia Hansen Ivanova Jensen Kowalski Larsen "  # noqa: SIM905
    "Moreau Novak Okafor Petrov Quinn Rossi Silva Tanaka Urban Varga Weber Xu Yilmaz Zhang "
    "Andersen Brown Chen Dimitrov Evans Fontaine Gomez Horvat Ito Kim Lopez Muller Nguyen".split()
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")


def generate_sample(rows: int = 20_000, seed: int = 42, drift: float = 0.0) -> pd.DataFrame:
    """Return ``rows`` synthetic credit applicants, reproducible for ``seed``.

    Args:
        rows: number of applicants (at least 10).
        seed: the random seed; the same seed and drift give the same frame.
        drift: 0 is the reference period; 1 is a clearly shifted later
            period (lower incomes, higher utilisation, more inquiries, a
            different purpose, region and age mix, and a label that depends
            more on debt-to-income); any value >= 0 is allowed.

    Raises:
        DataError: ``rows`` or ``drift`` is out of range.
    """
    if rows < 10:
        raise DataError(f"data.sample.rows: expected at least 10 rows, got {rows}")
    if not np.isfinite(drift) or drift < 0:
        raise DataError(f"data.sample.drift: expected a number >= 0, got {drift}")
    rng = np.random.default_rng(seed)
    frame = _people(rng, rows, drift)
    frame.update(_finances(rng, frame, drift))
    frame[LABEL] = _label(rng, frame, drift)
    frame.update(_pii(rng, frame))
    _blank_out(rng, frame, drift)
    return _to_frame(frame)


def generate_later_period(rows: int = 20_000, seed: int = 42, drift: float = 1.0) -> pd.DataFrame:
    """Return a later period for the reference sample of ``seed``: new applicants, drifted.

    The draw uses ``seed + LATER_PERIOD_SEED_OFFSET``, so its applicants are
    not those of the reference period, and its ids carry the prefix ``L``.
    """
    frame = generate_sample(rows, seed + LATER_PERIOD_SEED_OFFSET, drift)
    frame[ID_COLUMN] = "L" + frame[ID_COLUMN].str.slice(1)
    return frame


Columns = dict[str, np.ndarray]


def _people(rng: np.random.Generator, rows: int, drift: float) -> Columns:
    cols: Columns = {}
    for name in ("sex", "age_band", "education", "employment_type"):
        cols[name] = CATEGORIES[name].draw(rng.random(rows), drift)
    for name in ("housing", "loan_purpose", "region", "marital_status", "has_guarantor"):
        cols[name] = CATEGORIES[name].draw(rng.random(rows), drift)
    low = np.array([AGE_RANGES[b][0] for b in cols["age_band"]], dtype=float)
    high = np.array([AGE_RANGES[b][1] for b in cols["age_band"]], dtype=float)
    cols["_age"] = low + rng.random(rows) * (high - low)
    retire = (cols["_age"] >= 66) & (rng.random(rows) < 0.75)
    cols["employment_type"] = np.where(retire, "retired", cols["employment_type"])
    young = (cols["_age"] < 60) & (cols["employment_type"] == "retired")
    cols["employment_type"] = np.where(young, "salaried", cols["employment_type"])
    cols["num_dependents"] = np.minimum(rng.poisson(0.9, rows), 6).astype(float)
    cols["_risk"] = rng.standard_normal(rows)  # unobserved: drives late payments and defaults
    return cols


def _finances(rng: np.random.Generator, cols: Columns, drift: float) -> Columns:
    rows = len(cols["_age"])
    age, risk, emp = cols["_age"], cols["_risk"], cols["employment_type"]
    edu_effect = _effect(cols["education"], {"bachelor": 0.2, "master": 0.35, "doctorate": 0.5})
    emp_effect = _effect(emp, {"unemployed": -0.9, "retired": -0.3, "self_employed": 0.1})
    log_income = np.log(42_000) + edu_effect + emp_effect + 0.25 * np.tanh((age - 35) / 12)
    income = np.exp(log_income + 0.45 * rng.standard_normal(rows) - 0.2 * drift)
    log_loan = np.log(12_000) + 0.4 * np.log(income / 42_000) + 0.12 * drift
    loan = np.clip(np.exp(log_loan + 0.6 * rng.standard_normal(rows)), 500, 150_000)
    term = rng.choice(np.array([12.0, 24.0, 36.0, 48.0, 60.0]), rows, p=[0.1, 0.2, 0.35, 0.2, 0.15])
    late = rng.poisson(0.45 * np.exp(0.7 * risk)).astype(float)
    util = np.clip(rng.beta(2, 3, rows) + 0.12 * risk + 0.12 * drift, 0, 1.2)
    dti = np.clip(rng.beta(2, 6, rows) + 0.25 * loan / income / (term / 12), 0, 1.5)
    working = np.isin(emp, ["salaried", "self_employed", "contract"])
    months = np.where(working, rng.random(rows) * np.minimum(age - 18, 25) * 12, 0.0)
    rate = 6 + 1.8 * late + 4 * util - 2 * edu_effect + rng.normal(0, 1.5, rows)
    return {
        "income": np.round(income, -1),
        "loan_amount": np.round(loan, -1),
        "loan_term_months": term,
        "interest_rate": np.round(np.clip(rate, 2.5, 29.9), 2),
        "debt_to_income": np.round(dti, 4),
        "credit_utilization": np.round(util, 4),
        "months_employed": np.floor(months),
        "num_credit_lines": rng.poisson(3 + age / 15).astype(float),
        "num_late_payments": late,
        "credit_history_years": np.round((age - 18) * rng.uniform(0.2, 1.0, rows), 1),
        "savings_balance": np.round(np.exp(np.log(income * 0.15) + rng.normal(0, 1, rows)), -1),
        "num_credit_inquiries": rng.poisson(np.exp(0.2 + 0.25 * risk + 0.4 * drift)).astype(float),
    }


def _effect(values: np.ndarray, effects: dict[str, float]) -> np.ndarray:
    chosen: np.ndarray = np.select([values == key for key in effects], list(effects.values()), 0.0)
    return chosen


def _label(rng: np.random.Generator, cols: Columns, drift: float) -> np.ndarray:
    purpose, emp, housing = cols["loan_purpose"], cols["employment_type"], cols["housing"]
    logit = (
        INTERCEPT
        - 0.3 * drift
        + 2.2 * (1 + 0.6 * drift) * (cols["debt_to_income"] - 0.3)
        + 1.6 * (1 + 0.3 * drift) * (cols["credit_utilization"] - 0.4)
        + 0.4 * (1 - 0.3 * drift) * cols["num_late_payments"]
        - 0.5 * np.log(cols["income"] / 42_000)
        + 0.12 * cols["num_credit_inquiries"]
        - 0.015 * np.minimum(cols["months_employed"], 120) / 12
        + _effect(emp, {"unemployed": 0.8, "contract": 0.3})
        + _effect(housing, {"rent": 0.25, "own": -0.25})
        + _effect(purpose, {"medical": 0.35, "business": 0.3})
        - 0.35 * (cols["has_guarantor"] == "yes")
        + 0.3 * (cols["age_band"] == "18-25")
        + 0.6 * cols["_risk"]
    )
    chance: np.ndarray = 1 / (1 + np.exp(-logit))
    return (rng.random(len(chance)) < chance).astype(np.int64)


def _pii(rng: np.random.Generator, cols: Columns) -> Columns:
    rows = len(cols["sex"])
    first = np.where(
        cols["sex"] == "F",
        rng.choice(np.asarray(FIRST_NAMES["F"], dtype=object), rows),
        rng.choice(np.asarray(FIRST_NAMES["M"], dtype=object), rows),
    )
    last = rng.choice(np.asarray(LAST_NAMES, dtype=object), rows)
    ids = rng.choice(90_000_000, rows, replace=False) + 10_000_000
    national = rng.choice(100_000_000, rows, replace=False)
    suffix = rng.integers(1, 1000, rows)
    phones = rng.integers(0, 10**7, rows)
    domains = rng.choice(np.asarray(EMAIL_DOMAINS, dtype=object), rows)
    emails = [
        f"{f.lower()}.{la.lower()}{n}@{d}"
        for f, la, n, d in zip(first, last, suffix, domains, strict=True)
    ]
    return {
        ID_COLUMN: np.array([f"C{n:08d}" for n in ids], dtype=object),
        "full_name": first + " " + last,
        "email": np.array(emails, dtype=object),
        "phone": np.array([f"+1-555-{p // 10_000:03d}-{p % 10_000:04d}" for p in phones]),
        "national_id": np.array([_national_id(n) for n in national]),
    }


def _national_id(number: int) -> str:
    # 9XX-XX-XXXX: the shape of a US SSN in a range that is never issued.
    return f"9{number // 10**6:02d}-{number // 10**4 % 100:02d}-{number % 10**4:04d}"


def _blank_out(rng: np.random.Generator, cols: Columns, drift: float) -> None:
    for name, rate in MISSING_RATES.items():
        share = min(rate * (1 + 0.5 * drift), 0.5)
        missing = rng.random(len(cols[name])) < share
        if name in CATEGORIES:
            values = cols[name].copy()
            values[missing] = None
            cols[name] = values
        else:
            cols[name] = np.where(missing, np.nan, cols[name])


def _to_frame(cols: Columns) -> pd.DataFrame:
    data: dict[str, pd.Series] = {}
    for name in COLUMNS:
        values = cols[name]
        if name == LABEL:
            data[name] = pd.Series(values, dtype="int64")
        elif name in NUMERIC_FEATURES:
            data[name] = pd.Series(values, dtype="float64")
        else:
            data[name] = pd.Series(list(values), dtype="str")
    return pd.DataFrame(data)
