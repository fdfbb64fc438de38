"""The one exception type the command-line tools turn into a one-line message."""


class UserError(Exception):
    """A problem the user can fix; its message says what to do."""
