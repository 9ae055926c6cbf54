"""Refuse bad answers before cookiecutter writes any file of the project."""

import json
import os
import sys

# Hooks run as temporary copies, so find the template's hooks folder from the answers.
# A relative template path is relative to where cookiecutter was started, which is $PWD.
sys.path.insert(0, os.path.join(os.environ.get("PWD", "."), r"""{{ cookiecutter._repo_dir }}""", "hooks"))

from answers import problems

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")

if found := problems(ANSWERS):
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    sys.exit(1)
