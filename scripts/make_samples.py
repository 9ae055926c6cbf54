"""Regenerate the bundled sample datasets of the generated project.

The samples are synthetic, so they carry no licence or privacy burden, and seeded, so
regenerating them gives the same bytes. Each has numeric and categorical columns with
missing values, so the generated pipeline exercises imputation and encoding on day one.
"""

from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 2000
SEED = 20261123
RAW_DIR = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}" / "data" / "raw"


def with_missing(values: pd.Series, share: float, rng: np.random.Generator) -> pd.Series:
    """Blank out a random share of a column, as real exports do."""
    return values.mask(rng.random(len(values)) < share)


def customers(rng: np.random.Generator) -> pd.DataFrame:
    """Telecom customers and whether they churned (binary classification)."""
    contract = rng.choice(["month-to-month", "one-year", "two-year"], ROWS, p=[0.55, 0.25, 0.2])
    internet = rng.choice(["fiber", "dsl", "none"], ROWS, p=[0.45, 0.4, 0.15])
    payment = rng.choice(
        ["electronic-check", "card", "bank-transfer", "mailed-check"], ROWS, p=[0.35, 0.25, 0.25, 0.15]
    )
    tenure = rng.integers(0, 73, ROWS)
    charges = np.round(
        20 + 35 * (internet == "fiber") + 20 * (internet == "dsl") + rng.normal(25, 12, ROWS), 2
    ).clip(18, 130)
    support_calls = rng.poisson(1.5, ROWS)
    age = rng.integers(18, 81, ROWS).astype(float)
    logit = (
        -1.2
        + 1.4 * (contract == "month-to-month")
        - 0.9 * (contract == "two-year")
        - 0.035 * tenure
        + 0.018 * (charges - 65)
        + 0.35 * support_calls
        + 0.5 * (payment == "electronic-check")
        - 0.01 * (age - 45)
    )
    churned = rng.random(ROWS) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(1, ROWS + 1)],
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": support_calls,
            "age": age,
            "contract": contract,
            "internet_service": internet,
            "payment_method": payment,
            "region": rng.choice(["north", "south", "east", "west"], ROWS),
            "churned": np.where(churned, "yes", "no"),
        }
    )
    frame["age"] = with_missing(frame["age"], 0.04, rng).astype("Int64")
    frame["monthly_charges"] = with_missing(frame["monthly_charges"], 0.02, rng)
    frame["payment_method"] = with_missing(frame["payment_method"], 0.03, rng)
    frame["region"] = with_missing(frame["region"], 0.05, rng)
    return frame


def houses(rng: np.random.Generator) -> pd.DataFrame:
    """Houses and their sale price in thousands (regression)."""
    neighbourhood = rng.choice(
        ["old-town", "riverside", "hillside", "industrial", "suburbs", "harbour"], ROWS
    )
    premium = pd.Series(neighbourhood).map(
        {"old-town": 60, "riverside": 45, "hillside": 30, "industrial": -40, "suburbs": 0, "harbour": 70}
    )
    condition = rng.choice(["poor", "fair", "good", "excellent"], ROWS, p=[0.1, 0.3, 0.45, 0.15])
    area = np.round(rng.gamma(9, 13, ROWS) + 30, 1)
    bedrooms = np.clip(np.round(area / 35 + rng.normal(0, 0.8, ROWS)), 1, 7).astype(int)
    year_built = rng.integers(1900, 2025, ROWS)
    distance = np.round(rng.gamma(2.5, 3.0, ROWS), 2)
    garage = rng.random(ROWS) < 0.55
    price = (
        40
        + 2.1 * area
        + 8 * bedrooms
        + 0.4 * (year_built - 1960)
        - 4.5 * distance
        + premium.to_numpy()
        + 25 * garage
        + pd.Series(condition).map({"poor": -45, "fair": -15, "good": 0, "excellent": 35}).to_numpy()
        + rng.normal(0, 30, ROWS)
    )
    frame = pd.DataFrame(
        {
            "house_id": [f"H{i:05d}" for i in range(1, ROWS + 1)],
            "area_m2": area,
            "bedrooms": bedrooms,
            "year_built": year_built,
            "distance_to_centre_km": distance,
            "neighbourhood": neighbourhood,
            "condition": condition,
            "garage": np.where(garage, "yes", "no"),
            "price_k": np.round(price.clip(30), 1),
        }
    )
    frame["area_m2"] = with_missing(frame["area_m2"], 0.03, rng)
    frame["year_built"] = with_missing(frame["year_built"], 0.04, rng).astype("Int64")
    frame["condition"] = with_missing(frame["condition"], 0.04, rng)
    return frame


def main() -> None:
    rng = np.random.default_rng(SEED)
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    customers(rng).to_csv(RAW_DIR / "customers.csv", index=False)
    houses(rng).to_csv(RAW_DIR / "houses.csv", index=False)


if __name__ == "__main__":
    main()
