import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.cli import COMMANDS, main
from {{ cookiecutter.package_name }}.data import ingest

# Starts an atomic write under the command line's SIGTERM handler, says so, and waits to be stopped.
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from {{ cookiecutter.package_name }}.cli import Terminated, sigterm_raises
    from {{ cookiecutter.package_name }}.outputs import atomic_path

    try:
        with sigterm_raises(), atomic_path(Path(sys.argv[1])) as temporary:
            temporary.write_text("half written")
            print("writing", flush=True)
            time.sleep(600)
    except Terminated:
        sys.exit(143)
    """
)


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


def test_sigterm_during_a_write_leaves_no_temporary_file_and_the_old_content(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("last good")
    command = [sys.executable, "-c", WRITER, str(target)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as writer:
        try:
            assert writer.stdout.readline() == "writing\n"
            writer.send_signal(signal.SIGTERM)
            # Far longer than an exit takes, even on a busy CI machine (10 s was once too short
            # under act); a writer that ignored SIGTERM would still be asleep here.
            status = writer.wait(timeout=60)
        finally:
            writer.kill()  # a no-op once it has exited

    assert status == 143
    assert target.read_text() == "last good"
    assert list(tmp_path.iterdir()) == [target]


def test_a_permission_error_is_one_line_naming_the_file(monkeypatch, capsys):
    def refused() -> None:
        raise PermissionError(13, "Permission denied", "data/interim/ingested.csv")

    monkeypatch.setattr(ingest, "main", refused)

    assert main(["ingest"]) == 1
    assert capsys.readouterr().err == "ingest: error: Permission denied: data/interim/ingested.csv\n"


def test_sigterm_is_the_default_again_after_a_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = signal.getsignal(signal.SIGTERM)

    main(["ingest"])

    assert signal.getsignal(signal.SIGTERM) == before
