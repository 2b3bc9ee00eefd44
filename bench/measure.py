#!/usr/bin/env python3
"""Runs a command; prints '<wall seconds> <peak RSS MiB>' of it (and its children) on stderr's last line."""
import resource
import subprocess
import sys
import time

start = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{wall:.3f} {peak_kib / 1024:.1f}")
sys.exit(rc)
