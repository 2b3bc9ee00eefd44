#!/usr/bin/env python3
"""Generates a reproducible source-like tree: N files totalling about SIZE MB (default 5,000 / 100)."""
import os
import random
import sys

root = sys.argv[1]
files = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
total_mb = int(sys.argv[3]) if len(sys.argv) > 3 else 100
rng = random.Random(42)
words = ["def", "return", "self", "import", "from", "class", "value", "result", "data", "async", "await",
         "for", "in", "if", "else", "None", "True", "False", "config", "items", "process", "task", "run"]
words += ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(rng.randint(3, 12))) for _ in range(2000)]
average = total_mb * 1024 * 1024 // files
for i in range(files):
    d = os.path.join(root, f"pkg{i % 50:02d}", f"sub{(i // 50) % 10}")
    os.makedirs(d, exist_ok=True)
    size = max(64, int(rng.expovariate(1 / average)))
    out, n = [], 0
    while n < size:
        line = "    " * rng.randint(0, 3) + " ".join(rng.choice(words) for _ in range(rng.randint(2, 12))) + "\n"
        if rng.random() < 0.05:
            line = "# " + os.urandom(24).hex() + "\n"  # some incompressible noise, like real code's literals
        out.append(line)
        n += len(line)
    with open(os.path.join(d, f"module_{i}.py"), "w") as f:
        f.write("".join(out)[:size])
with open(os.path.join(root, ".gitignore"), "w") as f:
    f.write("*.log\n__pycache__/\n")
