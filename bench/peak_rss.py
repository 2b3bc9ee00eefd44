#!/usr/bin/env python3
"""peak_rss.py [--during 'shell command'] -- COMMAND...: runs COMMAND and prints '<wall s> <peak RSS MiB>' of that
one process (VmHWM from /proc/<pid>/status, polled until it exits: its own memory, not its children's, so a Python
worker's values do not count as the driver's).

With --during, COMMAND is a server: once its stdout has printed a line, the shell command runs (e.g. curl against it),
then the server is stopped with SIGINT and its peak is printed.
"""
import os
import signal
import subprocess
import sys
import threading
import time


def hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    args = sys.argv[1:]
    during = None
    if args and args[0] == "--during":
        during, args = args[1], args[2:]
    if args and args[0] == "--":
        args = args[1:]
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE if during else subprocess.DEVNULL, text=True)
    peak = [0]

    def poll():
        while proc.poll() is None:
            value = hwm_kib(proc.pid)
            if value:
                peak[0] = max(peak[0], value)
            time.sleep(0.01)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    rc = 0
    if during:
        proc.stdout.readline()  # the server printed where it listens
        rc = subprocess.run(during, shell=True).returncode
        value = hwm_kib(proc.pid)
        if value:
            peak[0] = max(peak[0], value)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    else:
        proc.wait()
        rc = proc.returncode
    poller.join()
    print(f"{time.perf_counter() - start:.2f} {peak[0] / 1024:.1f}")
    sys.exit(rc)


if __name__ == "__main__":
    main()
