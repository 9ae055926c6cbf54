from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.cli import COMMANDS, main


def test_a_pipeline_error_is_one_message_and_status_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    status = main(["ingest"])

    assert status == 1
    assert capsys.readouterr().err == "ingest: error: params.yaml not found: run from the project root\n"


def test_every_stage_of_dvc_yaml_is_a_command():
    stages = yaml.safe_load((Path(__file__).resolve().parents[1] / "dvc.yaml").read_text())["stages"]

    assert set(stages) <= set(COMMANDS)


def test_an_unknown_command_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["deploy-to-the-moon"])

    assert exit_info.value.code == 2
    assert "invalid choice: 'deploy-to-the-moon'" in capsys.readouterr().err
