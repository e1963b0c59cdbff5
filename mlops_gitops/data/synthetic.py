"""The built-in samples of every kind of model, by name (``data.sample.kind``).

``credit`` is the consumer-credit default table of :mod:`mlops_gitops.data.sample`
(binary). The others are generated here: ``triage`` (support tickets, the label
``priority`` low/medium/high: multiclass), ``forecast`` (daily store demand,
``units_sold``, with the date column ``order_date``: regression), ``segments``
(customers, no label: clustering) and ``fraud`` (card transactions with a rare
``is_fraud`` flag: anomaly detection). Each is seeded and deterministic, has
categorical columns, missing values and PII columns, and takes ``drift``: 0 is
the reference period, larger values a shifted later one (a different mix,
levels and label relationship). A generator does not depend on any task module.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from mlops_gitops.data.sample import EMAIL_DOMAINS, Categorical, generate_sample
from mlops_gitops.errors import DataError

Columns = dict[str, np.ndarray]
# The first day of the forecast sample's reference period.
FORECAST_START = np.datetime64("2023-01-01")
FORECAST_DAYS = 730
STORES = 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Share of transactions that are fraud in the reference period.
FRAUD_RATE = 0.015


def _cat(
    values: tuple[str, ...], probs: tuple[float, ...], shift: tuple[float, ...]
) -> Categorical:
    return Categorical(values, probs, shift)


TRIAGE = {
    "channel": _cat(
        ("email", "chat", "phone", "web_form"), (0.4, 0.25, 0.15, 0.2), (-0.3, 0.5, 0, 0)
    ),
    "product": _cat(
        ("billing", "mobile_app", "api", "hardware", "account"),
        (0.25, 0.25, 0.15, 0.1, 0.25),
        (0.0, 0.4, 0.3, -0.3, 0.0),
    ),
    "customer_tier": _cat(("free", "pro", "enterprise"), (0.55, 0.33, 0.12), (-0.2, 0.1, 0.4)),
    "region": _cat(("emea", "americas", "apac"), (0.4, 0.4, 0.2), (0.0, -0.2, 0.4)),
    "language": _cat(
        ("en", "de", "fr", "es", "ja"), (0.55, 0.15, 0.1, 0.12, 0.08), (0, 0, 0, 0.2, 0.4)
    ),
}
FORECAST = {
    "item_category": _cat(
        ("grocery", "household", "electronics", "apparel", "toys"),
        (0.4, 0.2, 0.12, 0.18, 0.1),
        (0.0, 0.1, 0.4, -0.2, 0.0),
    ),
    "store_size": _cat(("small", "medium", "large"), (0.35, 0.45, 0.2), (0.0, 0.0, 0.0)),
    "region": _cat(
        ("north", "south", "east", "west"), (0.25, 0.25, 0.25, 0.25), (0.0, 0.0, 0.0, 0.0)
    ),
}
SEGMENTS = {
    "preferred_channel": _cat(("store", "online", "app"), (0.5, 0.3, 0.2), (-0.4, 0.2, 0.5)),
    "region": _cat(
        ("north", "south", "east", "west"), (0.3, 0.2, 0.25, 0.25), (0.0, 0.3, 0.0, -0.2)
    ),
    "membership": _cat(("none", "silver", "gold"), (0.6, 0.3, 0.1), (0.2, 0.0, -0.2)),
}
FRAUD = {
    "merchant_category": _cat(
        ("grocery", "fuel", "restaurant", "electronics", "travel", "online_services"),
        (0.3, 0.15, 0.2, 0.1, 0.1, 0.15),
        (-0.2, 0.0, 0.0, 0.3, 0.2, 0.4),
    ),
    "channel": _cat(("pos", "online", "atm"), (0.6, 0.32, 0.08), (-0.3, 0.4, 0.0)),
    "device_type": _cat(("terminal", "mobile", "desktop"), (0.6, 0.25, 0.15), (-0.3, 0.5, 0.0)),
}
# Segment means of the clustering sample: age, annual spend, visits a month, basket, tenure.
SEGMENT_CENTRES = np.array(
    [
        [24.0, 900.0, 6.0, 18.0, 10.0],
        [38.0, 4200.0, 3.0, 95.0, 48.0],
        [52.0, 2500.0, 9.0, 30.0, 110.0],
        [67.0, 600.0, 1.5, 40.0, 150.0],
    ]
)
SEGMENT_MIX = _cat(("a", "b", "c", "d"), (0.3, 0.25, 0.3, 0.15), (0.4, 0.2, -0.2, -0.4))


def generate_triage(rows: int = 20_000, seed: int = 42, drift: float = 0.0) -> pd.DataFrame:
    """Return ``rows`` support tickets with their ``priority`` (low, medium, high)."""
    rng = _rng(rows, seed, drift)
    cols = _draw(rng, TRIAGE, rows, drift)
    cols["message_length"] = np.round(np.exp(rng.normal(5.5, 0.8, rows)))
    cols["num_previous_tickets"] = rng.poisson(2.0, rows).astype(float)
    cols["account_age_days"] = np.floor(rng.exponential(700, rows))
    cols["attachments"] = np.minimum(rng.poisson(0.4, rows), 5).astype(float)
    cols["hour_of_day"] = rng.integers(0, 24, rows).astype(float)
    cols["affected_users"] = np.floor(np.exp(rng.exponential(1.2, rows) * (1 + 0.3 * drift)))
    outage = rng.random(rows) < 0.08 * (1 + drift)
    cols["mentions_outage"] = np.where(outage, "yes", "no").astype(object)
    cols["sentiment"] = np.round(np.clip(rng.normal(-0.1 - 0.5 * outage, 0.45), -1, 1), 3)
    urgency = (
        _effect(cols["customer_tier"], {"pro": 0.6, "enterprise": 1.5})
        + _effect(cols["product"], {"api": 0.7, "hardware": 0.4, "billing": 0.3})
        + _effect(cols["channel"], {"phone": 0.6, "chat": 0.3})
        + (2.2 - 0.6 * drift) * outage
        + (0.45 + 0.2 * drift) * np.log1p(cols["affected_users"])
        - 1.1 * cols["sentiment"]
        + rng.logistic(0, 0.3, rows)
    )
    cuts = np.array([1.3, 2.6]) - 0.3 * drift
    levels = np.asarray(("low", "medium", "high"), dtype=object)
    cols["priority"] = levels[np.digitize(urgency, cuts)]
    cols["requester_email"] = _emails(rng, rows, "user")
    cols["requester_phone"] = _phones(rng, rows)
    cols["ticket_id"] = _ids("T", rng, rows)
    _blank(rng, cols, {"sentiment": 0.06, "affected_users": 0.1, "language": 0.03}, drift)
    return _frame(cols, ["ticket_id", "requester_email", "requester_phone"], label="priority")


def generate_forecast(rows: int = 20_000, seed: int = 42, drift: float = 0.0) -> pd.DataFrame:
    """Return ``rows`` store-day-category sales with ``order_date`` and ``units_sold``."""
    rng = _rng(rows, seed, drift)
    stores = rng.integers(0, STORES, rows)
    store_rng = np.random.default_rng(seed + 7)
    sizes = FORECAST["store_size"].draw(store_rng.random(STORES), 0.0)[stores]
    regions = FORECAST["region"].draw(store_rng.random(STORES), 0.0)[stores]
    day = rng.integers(0, FORECAST_DAYS, rows) + round(365 * drift)
    dates = FORECAST_START + day.astype("timedelta64[D]")
    weekday = (dates.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 1970-01-01 was a thursday
    cols: Columns = {
        "store_id": np.array([f"S{s:03d}" for s in stores], dtype=object),
        "order_date": np.datetime_as_string(dates, unit="D").astype(object),
        "day_of_week": np.asarray(WEEKDAYS, dtype=object)[weekday],
        "store_size": sizes,
        "region": regions,
        "item_category": FORECAST["item_category"].draw(rng.random(rows), drift),
    }
    cols.update(_sales(rng, cols, day, drift))
    cols["record_id"] = _ids("R", rng, rows)
    cols["manager_email"] = _emails(store_rng, STORES, "manager")[stores]
    cols["manager_phone"] = _phones(store_rng, STORES)[stores]
    _blank(rng, cols, {"temperature_c": 0.08, "competitor_distance_km": 0.1, "promo": 0.02}, drift)
    ids = ["record_id", "order_date", "store_id", "manager_email", "manager_phone"]
    return _frame(cols, ids, label="units_sold")


def _sales(rng: np.random.Generator, cols: Columns, day: np.ndarray, drift: float) -> Columns:
    rows = len(day)
    sales: Columns = {}
    promo = rng.random(rows) < 0.2 + 0.1 * drift
    holiday = rng.random(rows) < 0.03
    sales["promo"] = np.where(promo, "yes", "no").astype(object)
    sales["is_holiday"] = np.where(holiday, "yes", "no").astype(object)
    base_price = _effect(cols["item_category"], {"grocery": 4, "household": 9, "electronics": 120})
    base_price = np.where(base_price == 0, 25.0, base_price) * (1 + 0.15 * drift)
    sales["price"] = np.round(base_price * np.exp(rng.normal(0, 0.2, rows)), 2)
    sales["discount_pct"] = np.where(promo, np.round(rng.uniform(5, 40, rows)), 0.0)
    season = np.sin(2 * np.pi * (day % 365) / 365)
    sales["temperature_c"] = np.round(12 + 10 * season + rng.normal(0, 4, rows), 1)
    sales["competitor_distance_km"] = np.round(rng.exponential(3.0, rows), 2)
    log_units = (
        3.0
        - 0.35 * drift
        + _effect(cols["item_category"], {"grocery": 0.9, "electronics": -1.2, "toys": -0.4})
        + _effect(cols["store_size"], {"medium": 0.4, "large": 0.9})
        + (0.45 + 0.3 * drift) * promo
        + 0.3 * np.isin(cols["day_of_week"], ["sat", "sun"])
        + 0.4 * holiday
        + 0.2 * season
        + 0.0004 * day
        - 0.25 * np.log(sales["price"] / base_price)
        + 0.03 * np.minimum(sales["competitor_distance_km"], 10)
    )
    sales["units_sold"] = np.round(np.exp(log_units) * rng.gamma(8.0, 1 / 8.0, rows))
    return sales


def generate_segments(rows: int = 20_000, seed: int = 42, drift: float = 0.0) -> pd.DataFrame:
    """Return ``rows`` retail customers drawn from four latent segments (no label column)."""
    rng = _rng(rows, seed, drift)
    cdf = np.cumsum(SEGMENT_MIX.probabilities(drift))
    segment = np.minimum(np.searchsorted(cdf, rng.random(rows), side="right"), len(cdf) - 1)
    centre = SEGMENT_CENTRES[segment]
    noise = rng.lognormal(0, 0.3, (rows, 5))
    cols = _draw(rng, SEGMENTS, rows, drift)
    cols["age"] = np.round(np.clip(centre[:, 0] + rng.normal(0, 5, rows), 18, 95))
    cols["annual_spend"] = np.round(centre[:, 1] * noise[:, 1] * (1 - 0.2 * drift), 2)
    cols["visits_per_month"] = np.round(centre[:, 2] * noise[:, 2] * (1 + 0.2 * drift), 1)
    cols["avg_basket_value"] = np.round(centre[:, 3] * noise[:, 3], 2)
    cols["tenure_months"] = np.floor(centre[:, 4] * noise[:, 4])
    cols["days_since_last_purchase"] = np.floor(rng.exponential(30 / centre[:, 2] * 3, rows))
    cols["online_share"] = np.round(rng.beta(2 + 3 * (segment == 0), 3, rows), 3)
    cols["customer_id"] = _ids("C", rng, rows)
    cols["email"] = _emails(rng, rows, "customer")
    cols["phone"] = _phones(rng, rows)
    _blank(rng, cols, {"online_share": 0.07, "annual_spend": 0.03, "membership": 0.02}, drift)
    return _frame(cols, ["customer_id", "email", "phone"], label=None)


def generate_fraud(rows: int = 20_000, seed: int = 42, drift: float = 0.0) -> pd.DataFrame:
    """Return ``rows`` card transactions with a rare ``is_fraud`` flag (0 or 1)."""
    rng = _rng(rows, seed, drift)
    fraud = rng.random(rows) < FRAUD_RATE * (1 + drift)
    cols = _draw(rng, FRAUD, rows, drift)
    cols["channel"] = np.where(fraud & (rng.random(rows) < 0.7), "online", cols["channel"])
    night = rng.random(rows) < np.where(fraud, 0.6, 0.08)
    cols["hour"] = np.where(night, rng.integers(0, 6, rows), rng.integers(6, 24, rows)).astype(
        float
    )
    amount = np.exp(rng.normal(3.4 + 0.2 * drift, 0.9, rows) + np.where(fraud, 1.6, 0.0))
    cols["amount"] = np.round(amount, 2)
    mismatch = rng.random(rows) < np.where(fraud, 0.55, 0.03)
    cols["country_mismatch"] = np.where(mismatch, "yes", "no").astype(object)
    present = (cols["channel"] == "pos") & ~(fraud & (rng.random(rows) < 0.8))
    cols["card_present"] = np.where(present, "yes", "no").astype(object)
    far = rng.exponential(np.where(fraud, 400.0, 15.0))
    cols["distance_from_home_km"] = np.round(far, 1)
    cols["txn_count_24h"] = rng.poisson(np.where(fraud, 7.0, 2.0)).astype(float)
    cols["account_age_days"] = np.floor(rng.exponential(np.where(fraud, 60.0, 900.0)))
    cols["is_fraud"] = fraud.astype(np.int64)
    cols["transaction_id"] = _ids("X", rng, rows)
    cols["card_number"] = np.array(
        [f"4000-{n // 10**8:04d}-{n // 10**4 % 10**4:04d}-{n % 10**4:04d}"
         for n in rng.integers(0, 10**12, rows)],
        dtype=object,
    )  # fmt: skip
    cols["cardholder_email"] = _emails(rng, rows, "holder")
    _blank(rng, cols, {"distance_from_home_km": 0.06, "device_type": 0.04}, drift)
    return _frame(cols, ["transaction_id", "card_number", "cardholder_email"], label="is_fraud")


SAMPLE_KINDS: dict[str, Callable[[int, int, float], pd.DataFrame]] = {
    "credit": generate_sample,
    "triage": generate_triage,
    "forecast": generate_forecast,
    "segments": generate_segments,
    "fraud": generate_fraud,
}


def generate_kind(
    kind: str, rows: int = 20_000, seed: int = 42, drift: float = 0.0
) -> pd.DataFrame:
    """Return the built-in sample ``kind`` (:data:`SAMPLE_KINDS`) of ``rows`` rows.

    Raises:
        DataError: an unknown kind, or ``rows`` or ``drift`` out of range.
    """
    if kind not in SAMPLE_KINDS:
        known = ", ".join(SAMPLE_KINDS)
        raise DataError(f"data.sample.kind: unknown sample '{kind}'; expected one of {known}")
    return SAMPLE_KINDS[kind](rows, seed, drift)


def _rng(rows: int, seed: int, drift: float) -> np.random.Generator:
    if rows < 10:
        raise DataError(f"data.sample.rows: expected at least 10 rows, got {rows}")
    if not np.isfinite(drift) or drift < 0:
        raise DataError(f"data.sample.drift: expected a number >= 0, got {drift}")
    return np.random.default_rng(seed)


def _draw(
    rng: np.random.Generator, table: dict[str, Categorical], rows: int, drift: float
) -> Columns:
    return {name: kind.draw(rng.random(rows), drift) for name, kind in table.items()}


def _effect(values: np.ndarray, effects: dict[str, float]) -> np.ndarray:
    chosen: np.ndarray = np.select([values == key for key in effects], list(effects.values()), 0.0)
    return chosen


def _ids(prefix: str, rng: np.random.Generator, rows: int) -> np.ndarray:
    numbers = rng.choice(90_000_000, rows, replace=False) + 10_000_000
    return np.array([f"{prefix}{n:08d}" for n in numbers], dtype=object)


def _emails(rng: np.random.Generator, rows: int, who: str) -> np.ndarray:
    numbers = rng.integers(10_000, 10_000_000, rows)
    domains = rng.choice(np.asarray(EMAIL_DOMAINS, dtype=object), rows)
    return np.array([f"{who}{n}@{d}" for n, d in zip(numbers, domains, strict=True)], dtype=object)


def _phones(rng: np.random.Generator, rows: int) -> np.ndarray:
    phones = rng.integers(0, 10**7, rows)
    return np.array([f"+1-555-{p // 10_000:03d}-{p % 10_000:04d}" for p in phones], dtype=object)


def _blank(rng: np.random.Generator, cols: Columns, rates: dict[str, float], drift: float) -> None:
    for name, rate in rates.items():
        missing = rng.random(len(cols[name])) < min(rate * (1 + 0.5 * drift), 0.5)
        values = cols[name].astype(object if cols[name].dtype == object else float)
        values[missing] = None if values.dtype == object else np.nan
        cols[name] = values


def _frame(cols: Columns, first: list[str], *, label: str | None) -> pd.DataFrame:
    rest = sorted(name for name in cols if name not in first and name != label)
    data: dict[str, pd.Series] = {}
    for name in [*first, *rest, *([label] if label else [])]:
        values = cols[name]
        if name == label and values.dtype != object:
            dtype = "int64" if values.dtype == np.int64 else "float64"
            data[name] = pd.Series(values, dtype=dtype)
        elif values.dtype == object:
            data[name] = pd.Series(list(values), dtype="str")
        else:
            data[name] = pd.Series(values, dtype="float64")
    return pd.DataFrame(data)
