"""Start-up: seconds from process start to the window shown (offscreen Qt), as ``ntklab --screenshot`` prints
them ("Window shown X s after the process started", /proc's start time, so the interpreter's own start
counts). Each run is a fresh process training 10 steps; median of 5. Target (issue 15): ≤ 1.2 s median.
Usage: ``python bench/bench_startup.py``.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_S = 1.2


def run(repeats: int = 5) -> list[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    shown = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            out = subprocess.run([sys.executable, "-m", "ntklab", "--screenshot", str(Path(tmp) / f"{i}.png"),
                                  "--steps", "10"], capture_output=True, text=True, env=env, timeout=600)
            match = re.search(r"Window shown ([0-9.]+) s", out.stdout)
            if match is None:
                raise RuntimeError(f"no start-up time in the output: {out.stdout[-500:]} {out.stderr[-1500:]}")
            shown.append(float(match.group(1)))
    med = statistics.median(shown)
    return ["| measure | median (s) | runs (s) | target | met |", "|---|---|---|---|---|",
            f"| process start to window shown | {med:.2f} | {', '.join(f'{s:.2f}' for s in shown)} | ≤ {TARGET_S} | "
            f"{'yes' if med <= TARGET_S else 'NO'} |"]


if __name__ == "__main__":
    print("\n".join(run()))
