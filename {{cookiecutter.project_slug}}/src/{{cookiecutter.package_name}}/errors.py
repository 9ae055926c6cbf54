"""The one exception type the command line turns into a clean error message."""


class PipelineError(Exception):
    """A problem the user can fix: bad params, bad data, an unreachable source."""
