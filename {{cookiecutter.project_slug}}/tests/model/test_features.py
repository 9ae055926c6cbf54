import pandas as pd

from {{ cookiecutter.package_name }}.model.features import date_parts
from {{ cookiecutter.package_name }}.model.store import load_model, save_model
from {{ cookiecutter.package_name }}.model.train import train
from {{ cookiecutter.package_name }}.tables import features_and_target

from ..conftest import make_params, synthetic_frame


def test_a_date_becomes_its_year_month_and_weekday():
    dates = pd.DataFrame({"day": ["2024-03-31", None, "2024-01-01T23:30:00-02:00", "not a date"]})

    parts = date_parts(dates)

    assert list(parts.columns) == ["day_year", "day_month", "day_weekday"]
    assert parts.iloc[0].tolist() == [2024, 3, 6]  # a Sunday
    assert parts.iloc[2].tolist() == [2024, 1, 1]  # in UTC: Tuesday 01:30
    assert parts.iloc[[1, 3]].isna().all().all()


def test_a_model_with_a_date_column_is_saved_loaded_and_scores_iso_text(tmp_path):
    params = make_params("classification", tmp_path)
    frame = synthetic_frame("classification")
    frame["ordered_on"] = pd.date_range("2024-01-01", periods=len(frame), freq="D").strftime("%Y-%m-%d")
    features, target = features_and_target(frame, params.data)

    save_model(train(features, target, params), tmp_path / "model.skops")
    model = load_model(tmp_path / "model.skops")

    columns = {name: list(used) for name, _, used in model.named_steps["preprocess"].transformers_}
    assert columns["dates"] == ["ordered_on"]
    assert "ordered_on" not in columns["categorical"]  # never one category per day
    later = features.head(3).assign(ordered_on=["2026-05-01", "2026-05-02 10:00", None])
    assert model.predict_proba(later).shape == (3, 2)
