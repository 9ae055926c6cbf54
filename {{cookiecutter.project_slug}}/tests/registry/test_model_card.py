"""The model card says what was deployed, how it scored, what it learnt from, and what is not known."""

from __future__ import annotations

from {{ cookiecutter.package_name }}.registry.model_card import NOT_RUN, CardFacts, render


def facts(**changes: object) -> CardFacts:
    values: dict[str, object] = {
        "name": "model",
        "description": "churn classifier",
        "version": "v0.2.0",
        "stage": "prod",
        "tag": "model#prod#4",
        "commit": "a" * 40,
        "model_path": "models/model.skops",
        "md5": "b" * 32,
        "size": 1234,
        "params": {"task": "classification", "data": {"source": "data/raw/customers.csv"}},
        "metrics": {"roc_auc": 0.81, "accuracy": 0.75},
        "model_description": {
            "target": "churned",
            "estimator": "random_forest",
            "classes": ["no", "yes"],
            "features": {"age": "float64", "contract": "object"},
            "training_data": {"rows": 1600, "path": "data/processed/train.csv", "md5": "c" * 32},
        },
        "reports": {"Model tests": "# Model tests\n\n## Invariance\n\nAll passed.", "Drift": None},
        "history": [
            {
                "timestamp": "2026-01-01 00:00:00",
                "event": "registration",
                "version": "v0.2.0",
                "stage": "",
                "tag": "model@v0.2.0",
                "message": "Register model v0.2.0",
            }
        ],
    }
    values.update(changes)
    return CardFacts(**values)  # type: ignore[arg-type]


def test_the_card_names_the_version_stage_commit_and_hash():
    card = render(facts())

    assert card.startswith("# Model card: model v0.2.0 (prod)\n")
    assert "| Version | v0.2.0 (tag `model#prod#4`) |" in card
    assert f"| Commit | `{'a' * 40}` |" in card
    assert f"md5 `{'b' * 32}`, 1234 bytes" in card
    assert "| Classes | no, yes |" in card


def test_the_card_lists_metrics_features_and_params():
    card = render(facts())

    assert "| accuracy | 0.75 |\n| roc_auc | 0.81 |" in card
    assert "| age | float64 |" in card
    assert "Trained on 1600 rows" in card
    assert "source: data/raw/customers.csv" in card


def test_a_report_is_nested_under_its_section_and_a_missing_one_says_not_run():
    card = render(facts())

    assert "## Model tests\n\n### Invariance\n\nAll passed." in card
    assert card.count("# Model tests") == 1
    assert f"## Drift\n\n{NOT_RUN}" in card


def test_the_card_ends_with_the_registry_history():
    card = render(facts())

    assert card.rstrip().endswith(
        "| 2026-01-01 00:00:00 | registration | v0.2.0 |  | `model@v0.2.0` | Register model v0.2.0 |"
    )


def test_a_version_without_metrics_says_so():
    assert "_No metrics recorded._" in render(facts(metrics={}))
