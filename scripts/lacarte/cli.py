"""Running a command-line tool: a UserError becomes one line on stderr and exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run_cli(main: Callable[[], int | None]) -> None:
    from lacarte.errors import UserError

    try:
        code = main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
