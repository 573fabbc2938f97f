"""The ``uffdpte`` command's first code: a Ctrl-C during start-up (while Python imports
click and the tables) exits 130 quietly instead of printing a KeyboardInterrupt
traceback.  Only signal and os are imported before the handler is in place."""

import os
import signal


def _interrupted_while_starting(signum: int, frame: object) -> None:
    os.write(2, b"uffdpte: interrupted\n")
    os._exit(130)


def run() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    from .cli import run as cli_run
    # from here on Ctrl-C is a KeyboardInterrupt that cli.Group.main turns into 130
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cli_run()
