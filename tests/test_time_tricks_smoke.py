"""tools/time_tricks.py backs every measured claim in the ops' comments: each trick must still
run against its plain version (--smoke: one call each, no timing asserted)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_trick_runs():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "time_tricks.py"), "--smoke"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if " trick " in line and " plain " in line]
    source = open(os.path.join(ROOT, "tools", "time_tricks.py"), encoding="utf-8").read()
    assert len(lines) >= source.count("    compare(") >= 15
    for name in ("Adam step in place", "batch norm train x·a + c", "avg-pool backward, no zero-fill"):
        assert any(line.startswith(name) for line in lines), name
