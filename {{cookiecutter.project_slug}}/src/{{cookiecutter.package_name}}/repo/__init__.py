"""The repository around the code: git, GitHub's API, DVC's set-up, keeping a branch current."""
