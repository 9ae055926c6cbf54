"""The pull request report: the one comment CI posts."""
