"""Finish the new project: drop files its options do not use, then set up git and DVC."""

import json
import os
import sys
from pathlib import Path

# Hooks run as temporary copies, so find the template's hooks folder from the answers.
# A relative template path is relative to where cookiecutter was started, which is $PWD.
sys.path.insert(0, os.path.join(os.environ.get("PWD", "."), r"""{{ cookiecutter._repo_dir }}""", "hooks"))

from project_setup import finish

finish(Path.cwd(), json.loads(r"""{{ cookiecutter | jsonify }}"""))
