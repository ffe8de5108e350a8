"""The `twin` console script.

Loading the CLI (torch, transformers, the stages) takes seconds; a Ctrl-C in that time would show
a KeyboardInterrupt traceback. Here it ends like a Ctrl-C during a command: one line, exit code
130. Once a command runs, `cli.common.user_errors` reports Ctrl-C with what was kept.
"""

from __future__ import annotations

import sys

INTERRUPTED_EXIT_CODE = 130  # as cli.common's; not imported from there: that import is the wait


def main() -> None:
    try:
        from llm_twin.cli.app import main as run_cli
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted: twin stopped while starting; nothing was changed.\n")
        raise SystemExit(INTERRUPTED_EXIT_CODE) from None
    run_cli()
