"""`make adopt` on real datasets (scikit-learn's own) and on an awkward generated one (dates, an
identifier, free text, `;`-separated latin-1 with decimal commas): one command, then the
pipeline and the tests pass with no edit of params.yaml, and adopting the same file again
changes nothing.

On each adopted project run what the adopted files change: the model tests (`make test-model`)
and the project's unit tests that read its own params.yaml. The rest of its unit suite brings
its own synthetic params and data, so adopting cannot change its result: it runs, from a fresh
clone, in pr.yml's checks job (test_github_flow)."""

from __future__ import annotations

import re

import pytest

from .conftest import TEMPLATE_DIR, copy_project, run

# Each dataset written as a CSV by the project's own Python (with `options` for to_csv), from
# the copies scikit-learn ships or generated.
# Each: the script, the adopt command, what adopt says it inferred.
# The project's unit tests that read its params.yaml (the others bring their own), and how a
# test names a file of the project it sits in.
PARAMS_TESTS = ("tests/test_config.py", "tests/data/test_adopt.py")
READS_THE_PROJECTS_FILE = re.compile(r'parents\[\d\] / "(params\.yaml|schema\.yaml|data)\b')
DATASETS = {
    "wine": (
        "frame = datasets.load_wine(as_frame=True).frame",
        "make adopt DATA=../wine.csv TARGET=target",
        "3 distinct whole numbers",
    ),
    "breast_cancer": (
        "frame = datasets.load_breast_cancer(as_frame=True).frame\n"
        "frame.insert(0, 'patient_id', [f'P{i:04d}' for i in range(len(frame))])\n"
        "frame['size_band'] = np.select([frame['mean radius'] < 12, frame['mean radius'] < 16],"
        " ['small', 'medium'], 'large')\n"
        "frame['diagnosis'] = np.where(frame.pop('target') == 0, 'malignant', 'benign')",
        "make adopt DATA=../breast_cancer.csv TARGET=diagnosis DROP=patient_id",
        "it holds text (2 distinct values)",
    ),
    "diabetes": (
        "frame = datasets.load_diabetes(as_frame=True, scaled=False).frame",
        "make adopt DATA=../diabetes.csv TARGET=target",
        "regression, inferred",
    ),
    "awkward": (
        "rng = np.random.default_rng(7)\n"
        "rows = 400\n"
        "first = ['José', 'Zoë', 'François', 'Ørjan', 'Anaïs', 'Jürgen', 'Inès', 'Noël', 'Åsa', 'Léa']\n"
        "last = ['Müller', 'Næss', 'García', 'Dubois', 'Ström', 'Côté', 'Peña', 'Weiß', 'Lefèvre']\n"
        "items = rng.integers(1, 12, rows)\n"
        "basket = np.round(rng.gamma(2.0, 40.0, rows), 2)\n"
        "region = rng.choice(['Nord', 'Süd', 'Île-de-France'], rows)\n"
        "ordered = pd.Timestamp('2023-01-01') + pd.to_timedelta(rng.integers(0, 700, rows), unit='D')\n"
        "score = 0.04 * basket - 0.5 * items + (region == 'Süd') * 1.5 + rng.normal(0, 1, rows)\n"
        "frame = pd.DataFrame({'order_id': [f'ORD-{i:05d}' for i in range(rows)],\n"
        "    'ordered_on': ordered.strftime('%Y-%m-%d'),\n"
        "    'customer': [f'{rng.choice(first)} {rng.choice(last)}' for _ in range(rows)],\n"
        "    'region': region, 'items': items, 'basket_eur': basket,\n"
        "    'returned': np.where(score > np.median(score), 'oui', 'non')})\n"
        "frame.loc[rng.choice(rows, 12, replace=False), 'basket_eur'] = np.nan\n"
        "options = {'sep': ';', 'encoding': 'latin-1', 'decimal': ','}",
        "make adopt DATA=../awkward.csv TARGET=returned DROP=order_id",
        "CSV with separator ';', encoding latin-1, decimal ',' (detected)",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", DATASETS)
def test_make_adopt_then_pipeline_and_tests_pass_with_no_edit(name, ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    script, command, inferred = DATASETS[name]
    imports = "import numpy as np\nimport pandas as pd\nfrom sklearn import datasets\noptions = {}\n"
    write = f"{imports}{script}\nframe.to_csv('../{name}.csv', index=False, **options)"
    run("uv", "run", "python", "-c", write, cwd=project)
    adopted_files = ("params.yaml", "schema.yaml", "data/raw")

    adopted = run(*command.split(), cwd=project)
    run("git", "add", "--all", "--", *adopted_files, cwd=project)
    run("git", "commit", "--quiet", "--no-verify", "-m", f"Adopt {name}", cwd=project)
    again = run(*command.split(), cwd=project)

    assert inferred in adopted.stdout
    assert "Then: make pipeline && make test" in adopted.stdout
    assert run("git", "status", "--porcelain", "--", *adopted_files, cwd=project).stdout == ""
    assert "params.yaml unchanged" in again.stdout
    assert "schema.yaml unchanged" in again.stdout
    run("make", "pipeline", cwd=project)
    unit_tested = run("uv", "run", "pytest", "-q", "-p", "no:cacheprovider", *PARAMS_TESTS, cwd=project)
    tested = run("make", "test-model", cwd=project)
    assert re.search(r"^\d+ passed in ", unit_tested.stdout, re.M), unit_tested.stdout
    assert "model-tests: all " in tested.stdout
    report = (project / "reports" / "model_tests.md").read_text()
    assert "| ✅ | baseline |" in report
    if name == "wine":
        assert "3 classes: balanced_accuracy and f1_macro are macro averages" in report
    if name == "breast_cancer":
        assert r"worst size\_band" in report  # escaped markdown: it reads "worst size_band"
    if name == "awkward":
        assert "adopt: dates: ordered_on: the model uses each one's year, month and day" in adopted.stdout
        schema = (project / "schema.yaml").read_text(encoding="utf-8")
        assert "ordered_on: {dtype: datetime, nullable: false, min: '2023-01-" in schema
        params = (project / "params.yaml").read_text(encoding="utf-8")
        assert "csv: {separator: ;, encoding: latin-1, decimal: ','}" in params


def test_params_tests_are_every_project_test_that_reads_what_adopt_changes():
    """A project test that comes to read params.yaml, schema.yaml or data/ joins PARAMS_TESTS."""
    project = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
    reading = {
        str(path.relative_to(project))
        for path in (project / "tests").rglob("*.py")
        if READS_THE_PROJECTS_FILE.search(path.read_text(encoding="utf-8"))
    }

    assert reading == set(PARAMS_TESTS)
