"""The terminal experience as a user gets it: the real CLI in a pseudo-terminal and in a
pipe, the colour conventions (--color, NO_COLOR, FORCE_COLOR), terminal width, --brief,
start-up cost, help texts, "did you mean", shell completion and --version."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(rb"\x1b\[[0-9;]*m")
PRESENT = "0x8000000071c00227"
PLAIN_LINE = ("0x8000000071c00227 present pfn=0x71c00 flags=PRESENT,RW,USER,ACCESSED,SPECIAL,NX "
              "write=1 young=1")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE",
                        "TTY_INTERACTIVE", "COLORTERM")}
    env["TERM"] = "xterm-256color"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_pipe(*args: str, env: dict[str, str] | None = None, python: tuple[str, ...] = ()
             ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *python, "-m", "uffdpte", *args],
                          capture_output=True, timeout=60, env=env or clean_env(), cwd=ROOT,
                          stdin=subprocess.DEVNULL)


def run_pty(*args: str, cols: int = 100, env: dict[str, str] | None = None,
            python: tuple[str, ...] = ()) -> tuple[int, bytes, bytes]:
    """Run the CLI with stdout on a pseudo-terminal of ``cols`` columns."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    p = subprocess.Popen([sys.executable, *python, "-m", "uffdpte", *args], stdout=slave,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env=env or clean_env(), cwd=ROOT)
    os.close(slave)
    out = b""
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(master)
    err = p.stderr.read()
    p.stderr.close()
    p.wait(timeout=60)
    return p.returncode, out.replace(b"\r\n", b"\n"), err


# --- the coloured view on a terminal, plain lines in a pipe -----------------------------------

def test_terminal_gets_the_coloured_view_and_a_pipe_the_plain_line():
    rc, out, err = run_pty("decode", "--arch", "x86_64", "--kernel", "6.12", PRESENT)
    assert rc == 0, err
    text = ANSI.sub(b"", out).decode()
    assert b"\x1b[" in out  # colour
    assert "PRESENT" in text.splitlines()[0] and "x86_64 · 6.12" in text
    assert "├" in text and "PFN" in text  # the field map, drawn
    assert "pfn 0x71c00, phys 0x71c00000" in text  # the table
    assert "pte_present true" in text and "pte_write true" in text  # the predicates

    r = run_pipe("decode", "--arch", "x86_64", "--kernel", "6.12", PRESENT)
    assert r.returncode == 0
    assert r.stdout.decode() == PLAIN_LINE + "\n"  # no escapes, no box drawing


def test_no_color_keeps_the_view_without_colour():
    rc, out, _ = run_pty("decode", "--arch", "x86_64", "--kernel", "6.12", PRESENT,
                         env=clean_env(NO_COLOR="1"))
    assert rc == 0
    assert b"\x1b[3" not in out and b"\x1b[4" not in out  # no foreground/background colour
    assert "├" in out.decode()
    # the command line wins over the environment
    rc, out, _ = run_pty("decode", "--color", "always", "--arch", "x86_64", PRESENT,
                         env=clean_env(NO_COLOR="1"))
    assert b"\x1b[32m" in out or b"\x1b[1;32m" in out


def test_color_never_on_a_terminal_and_always_in_a_pipe():
    rc, out, _ = run_pty("decode", "--color", "never", "--arch", "x86_64", PRESENT)
    assert rc == 0 and not ANSI.search(out) and "├" in out.decode()
    r = run_pipe("decode", "--color", "always", "--arch", "x86_64", "--kernel", "6.12", PRESENT)
    assert r.returncode == 0 and b"\x1b[" in r.stdout and "├".encode() in r.stdout


def test_force_color_draws_the_view_into_a_pipe():
    r = run_pipe("decode", "--arch", "x86_64", PRESENT, env=clean_env(FORCE_COLOR="1"))
    assert b"\x1b[" in r.stdout
    r = run_pipe("decode", "--arch", "x86_64", PRESENT, env=clean_env(FORCE_COLOR="1",
                                                                        NO_COLOR="1"))
    assert not ANSI.search(r.stdout) and "├".encode() in r.stdout


def test_width_follows_the_terminal():
    for cols, bits_per_line in ((100, 32), (60, 16), (200, 64)):
        rc, out, _ = run_pty("decode", "--arch", "arm64", "--kernel", "6.12",
                             "0x00e8000081234f43", cols=cols)
        lines = ANSI.sub(b"", out).decode().splitlines()
        assert rc == 0
        assert max(len(line) for line in lines) <= cols
        numbers = next(line.split() for line in lines if line.split()[:1] == ["63"])
        assert len(numbers) == bits_per_line


def test_several_values_get_one_compact_block_each_and_brief_one_line():
    args = ("decode", "--arch", "x86_64", "--kernel", "6.12", "--config", "all", "--levels",
            "4", "--scheme", "marker", PRESENT, "0x07ffffffffdb9600")
    rc, out, _ = run_pty(*args)
    text = ANSI.sub(b"", out).decode()
    heads = [line for line in text.splitlines() if line.startswith("0x")]
    assert [h.split()[:2] for h in heads] == [[PRESENT, "PRESENT"],
                                              ["0x07ffffffffdb9600", "SWAP"]]
    assert "decoded  (meaning)" not in text  # compact: no table
    assert "~OFFSET ~raw: offset 0x1234 (4660)" in text
    rc, out, _ = run_pty(*args, "--brief")
    lines = ANSI.sub(b"", out).decode().splitlines()
    assert lines == [PLAIN_LINE, "0x07ffffffffdb9600 swap type=0 offset=0x1234"]
    assert b"\x1b[" in out  # still coloured on a terminal


def test_json_is_never_coloured():
    rc, out, _ = run_pty("decode", "--json", "--arch", "x86_64", PRESENT)
    assert rc == 0 and not ANSI.search(out) and out.startswith(b"{")


# --- start-up: a pipe never imports rich or bitstring ----------------------------------------

def _imported(stderr: bytes) -> set[str]:
    names = set()
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_pipe_mode_imports_neither_rich_nor_bitstring():
    r = run_pipe("decode", "--arch", "x86_64", PRESENT, python=("-X", "importtime"))
    assert r.returncode == 0 and r.stdout.decode() == PLAIN_LINE + "\n"
    mods = _imported(r.stderr)
    assert "uffdpte.cli" in mods  # the measurement works
    heavy = sorted(m for m in mods if m.split(".")[0] in ("rich", "bitstring")
                   or m in ("uffdpte.render.term", "uffdpte.render.fieldmap"))
    assert heavy == []
    # ... and the terminal does (so the check above is not vacuous)
    rc, _, err = run_pty("decode", "--arch", "x86_64", PRESENT, python=("-X", "importtime"))
    assert "rich" in _imported(err) and "uffdpte.render.term" in _imported(err)


# --- conventions ------------------------------------------------------------------------------

def _commands() -> list[str]:
    from click import Context

    from uffdpte.cli import main
    return main.list_commands(Context(main))


def test_every_help_has_a_description_and_real_examples():
    for cmd in [None, *_commands()]:
        r = run_pipe(*([cmd] if cmd else []), "--help")
        assert r.returncode == 0, cmd
        text = r.stdout.decode()
        assert "Examples:" in text, cmd
        examples = text.split("Examples:", 1)[1].split("\n\n", 1)[0].strip().splitlines()
        assert 2 <= len([e for e in examples if "uffdpte" in e]) <= 4, (cmd, examples)
        # the description: a sentence right after the usage line
        assert len(text.split("\n\n")[1].strip()) > 20, cmd


def test_unknown_commands_and_options_suggest_the_closest():
    r = run_pipe("decod", PRESENT)
    assert r.returncode == 2 and b"Did you mean 'decode'?" in r.stderr
    r = run_pipe("decode", "--colr", "never", PRESENT)
    assert r.returncode == 2 and b"Did you mean '--color'?" in r.stderr
    r = run_pipe("layout", "--state", "migraton")
    assert r.returncode == 2 and b"Did you mean 'migration'?" in r.stderr
    assert b"Traceback" not in r.stderr


def _complete(words: str) -> list[str]:
    """What bash completion offers for the last word (click's bash_complete protocol)."""
    script = "import sys; from uffdpte.cli import main; main(prog_name='uffdpte')"
    env = clean_env(_UFFDPTE_COMPLETE="bash_complete", COMP_WORDS=words,
                    COMP_CWORD=str(len(words.split()) - (0 if words.endswith(" ") else 1)))
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env,
                       timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return [line.split(",", 1)[1] for line in r.stdout.decode().splitlines()]


def test_shell_completion_of_commands_kernels_configs_and_states():
    assert _complete("uffdpte lay") == ["layout"]
    kernels = _complete("uffdpte decode --arch arm64 --kernel 6.1")
    assert {"6.1", "6.10", "6.12"} <= set(kernels)  # 6.10: arm64's re-layout
    assert _complete("uffdpte decode --config deb") == ["debian"]
    assert _complete("uffdpte decode --config debian,DEVICE_P") == [
        "debian,DEVICE_PRIVATE=y", "debian,DEVICE_PRIVATE=n"]
    assert _complete("uffdpte layout --state m") == ["migration", "marker"]
    assert "protnone" in _complete("uffdpte layout --arch arm64 --state ")
    assert _complete("uffdpte decode --color ") == ["auto", "always", "never"]
    for shell in ("bash", "zsh", "fish"):
        script = "import sys; from uffdpte.cli import main; main(prog_name='uffdpte')"
        r = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60,
                           env=clean_env(_UFFDPTE_COMPLETE=f"{shell}_source"), cwd=ROOT)
        assert r.returncode == 0 and b"_UFFDPTE_COMPLETE" in r.stdout, shell


def test_version_names_the_newest_kernel():
    from uffdpte.kver import NEWEST_TEXT
    r = run_pipe("--version")
    assert r.returncode == 0
    assert r.stdout.decode().strip() == f"uffdpte 0.1.0 (tables know kernels up to {NEWEST_TEXT})"


@pytest.mark.parametrize("color,tty,env,want", [
    ("auto", True, {}, (True, True)),
    ("auto", False, {}, (False, False)),
    ("auto", True, {"NO_COLOR": "1"}, (True, False)),
    ("auto", False, {"FORCE_COLOR": "1"}, (True, True)),
    ("auto", True, {"TERM": "dumb"}, (True, False)),
    ("auto", True, {"NO_COLOR": ""}, (True, True)),  # empty means unset (no-color.org)
    ("always", False, {"NO_COLOR": "1"}, (True, True)),
    ("never", True, {"FORCE_COLOR": "1"}, (True, False)),
    ("never", False, {}, (False, False)),
])
def test_terminal_view_decision(monkeypatch, color, tty, env, want):
    from uffdpte.cli import terminal_view
    for k in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for k, v in env.items():
        monkeypatch.setenv(k, v)

    class Stream:
        def isatty(self) -> bool:
            return tty

    assert terminal_view(color, Stream()) == want
