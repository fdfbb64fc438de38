"""The exceptions the command line turns into one line on stderr and an exit code."""


class UserError(Exception):
    """A problem the user can fix (bad configuration, bad input, a refusal): exit code 2.

    The message says what is wrong and what to do.
    """

    exit_code = 2


class StepFailure(UserError):
    """A step of a job failed (a dbt model, test or operation): exit code 1.

    Rerunning after fixing the cause is safe: every step is atomic or idempotent.
    """

    exit_code = 1
