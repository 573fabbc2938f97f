"""Run ``uffdpte pagemap`` with the target killed after the first pagemap read.

``python tests/pagemap_midread.py PID ARGS...`` reads the pagemap in 4-page windows and
SIGKILLs PID right after the first window is read, so the next pread meets a process
whose memory is gone: the real kernel path of "the process exits mid-read".  (PID is
not our child: its parent, the test, reaps it.)
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's uffdpte

from uffdpte.cli import main  # noqa: E402
from uffdpte.pagemap import read  # noqa: E402

read.WINDOW = 4
_orig = read.Session._pread
_calls = {"n": 0}


def _pread(self, addr, pages):
    data = _orig(self, addr, pages)
    _calls["n"] += 1
    if _calls["n"] == 1:
        os.kill(self.pid, signal.SIGKILL)
        # wait until the kernel has torn the mm down (zombie or reaped)
        for _ in range(200):
            if not read.alive(self.pid):
                break
            time.sleep(0.01)
    return data


read.Session._pread = _pread  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.argv[0] = "uffdpte"
    main(["pagemap", *sys.argv[1:]])
