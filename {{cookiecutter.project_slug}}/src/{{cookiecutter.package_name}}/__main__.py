"""Let `python -m {{ cookiecutter.package_name }} <stage>` run a pipeline stage."""

from .cli import main

raise SystemExit(main())
