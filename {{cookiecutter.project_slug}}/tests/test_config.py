from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import load_params
from {{ cookiecutter.package_name }}.errors import PipelineError

PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def write_params(tmp_path: Path, change: dict[str, object]) -> Path:
    raw = yaml.safe_load(PROJECT_PARAMS.read_text())
    for dotted, value in change.items():
        *parents, leaf = dotted.split(".")
        section = raw
        for parent in parents:
            section = section[parent]
        section[leaf] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_the_projects_params_file_is_valid():
    params = load_params(PROJECT_PARAMS)

    assert params.data.target
    assert 0 < params.split.test_size < 1


def test_a_misspelled_key_is_refused_with_its_name(tmp_path):
    path = write_params(tmp_path, {"split.test_sise": 0.3})

    with pytest.raises(PipelineError, match=r"split\.test_sise: Extra inputs are not permitted"):
        load_params(path)


def test_an_out_of_range_value_is_refused_with_its_key(tmp_path):
    path = write_params(tmp_path, {"split.test_size": 1.5})

    with pytest.raises(PipelineError, match=r"split\.test_size: Input should be less than 1"):
        load_params(path)


def test_a_missing_params_file_says_where_to_run_from(tmp_path):
    with pytest.raises(PipelineError, match="not found: run from the project root"):
        load_params(tmp_path / "params.yaml")


def test_params_are_immutable():
    params = load_params(PROJECT_PARAMS)

    with pytest.raises(ValueError, match="frozen"):
        params.seed = 1  # type: ignore[misc]


def test_an_unknown_strategy_is_refused_with_its_stages_key(tmp_path):
    path = write_params(tmp_path, {"serving.stages.prod": {"strategy": "canery"}})

    with pytest.raises(PipelineError, match=r"serving\.stages\.prod\.strategy: Input should be 'recreate'"):
        load_params(path)


def test_a_strategy_set_for_every_stage_at_once_says_it_now_goes_under_a_stage(tmp_path):
    path = write_params(tmp_path, {"serving.strategy": "canary", "serving.canary_share": 0.2})

    with pytest.raises(PipelineError, match=r"serving: .*strategy, canary_share: set per stage now"):
        load_params(path)
