"""FlyteSharp's Python task runner (standard library only, Python 3.9+).

Runs plain Python functions named ``package.module:function`` from a code bundle directory. No
FlyteSharp package is imported by task code. The same file is used for local runs (copied into the
run's sandbox) and inside images (at /opt/flytesharp/flytesharp_runner.py).

Import path: the bundle directory is first on sys.path. ``--path REL`` (repeatable) adds more entries relative to
it, right after it: FlyteSharp passes the import roots of the uv workspace's packages under root_dir (a member's
``src/`` or its directory), so every member imports from the bundle without being installed in the image.

Flyte task objects: when ``pkg.mod:fn`` names an object made by flyte-sdk's ``@env.task`` (a class from the
``flyte`` package keeping the decorated function in ``.func``), that function is described and called.

Protocol
--------
Values cross as JSON. Inputs are one JSON object keyed by parameter name; the output is the
function's return value (async functions are awaited with asyncio.run). Errors are JSON objects
``{"type": ..., "message": ..., "traceback": ...}``.

One call (containers; exit code 0 on success, 1 when the task raised)::

    python3 flytesharp_runner.py --bundle-dir DIR --task pkg.mod:fn --inputs in.json --outputs out.json

  out.json is ``{"ok": true, "output": <value>}`` or ``{"ok": false, "error": {...}}``.
  The task's stdout/stderr go to the process's stdout/stderr. Once out.json is complete the runner prints the line
  ``FLYTESHARP-REPLY-WRITTEN`` on its original stdout, so the driver can take a successful result without waiting
  for the process (or its container) to exit. ``--inputs -`` reads the inputs object from stdin (to end of input)
  after the bundle is unpacked, so a container can start before its inputs are known.

Container start (the code travels per run, as a bundle): with ``--bundle SRC --digest sha256:HEX`` the runner first
fetches the code bundle (SRC is a path, e.g. in a read-only mounted store, or an http(s) URL of a registry
blob), checks its sha256 digest, and unpacks it safely into --bundle-dir; only then does it call or describe.
A bundle that cannot be fetched, does not match its digest, or is unsafe is refused: exit code 3, and with
--outputs the error (type ``flytesharp.BundleDigestMismatch`` or ``flytesharp.BundleError``) is written there.
In single-call mode out.json also carries ``"timings": {"started": <epoch s>, "bundle": <s>, "task": <s>}``.
An URL download is retried on 5xx, 429 and connection errors (``--fetch-attempts N``, ``--fetch-backoff SECONDS``:
the registry client's policy, passed by FlyteSharp), honouring Retry-After. ``--bundle-auth-file FILE`` names a JSON
file ``{"authorization": "Bearer <token>"}`` (mounted read-only) whose value is sent to the registry, never to a
host it redirects to.

Kubernetes: a pod has no mounted per-action directory, so a single call may take
its inputs from an environment variable and hand its result back on stdout (read from the pod's log)::

    python3 flytesharp_runner.py --bundle SRC --digest D --bundle-dir DIR --task pkg.mod:fn --inputs-env FLYTESHARP_INPUTS --result-stdout

  ``--inputs-env NAME`` reads the inputs object from environment variable NAME instead of ``--inputs``.
  ``--result-stdout`` prints, after the task returned (and after a bundle refusal), the same object out.json
  holds on one line ``FLYTESHARP-RESULT-BEGIN <json> FLYTESHARP-RESULT-END`` on the process's original stdout;
  the last such line is the result (task code printing a look-alike earlier cannot replace it). ``--outputs``
  is optional with it. Exit codes are as above.

Secrets (containers): ``--secret-env NAME=PATH`` (repeatable) sets environment variable NAME to the contents of
the read-only mounted file PATH before anything is imported, so a secret's value is never in the container's
configuration (``podman inspect``), only in the running process.

Describe (checked before a run starts)::

    python3 flytesharp_runner.py --bundle-dir DIR --describe pkg.mod:fn [pkg.mod:fn ...]

  prints one JSON array, per reference either
  ``{"task", "ok": true, "file": <path relative to DIR>, "is_async", "parameters": [{"name", "annotation", "kind", "has_default"}]}``
  or ``{"task", "ok": false, "error": {"type", "message", "defined": [names the module defines]}}``.
  Error types: ModuleNotFoundError, ModuleOutsideBundle, ImportError (module raised on import),
  FunctionNotFound, NotCallable.

Serve (a warm interpreter per run and environment)::

    python3 flytesharp_runner.py --bundle-dir DIR --serve

  reads one JSON request per line on stdin and writes one JSON response per line on the protocol
  stream (the original stdout; fd 1 is pointed elsewhere, see below, so stray writes cannot corrupt it):
  ``{"id": N, "op": "call", "task": "pkg.mod:fn", "inputs": {...}}`` ->
  ``{"id": N, "ok": true, "output": <value>, "stdout": "...", "stderr": "..."}`` (or ``"ok": false, "error"``);
  ``{"id": N, "op": "describe", "tasks": [...]}`` -> ``{"id": N, "ok": true, "output": [<as describe>]}``;
  ``{"id": N, "op": "reload", "bundle": SRC, "digest": D, "bundle_dir": DIR, "paths": [REL...]}`` (a reusable
  container given another code bundle) fetches, verifies and unpacks SRC into DIR unless DIR exists, answers
  ``{"id": N, "ok": true}`` and replaces the interpreter (os.execv, same process and pipes) with one serving DIR;
  a refused bundle is answered ``"ok": false`` with a ``flytesharp.BundleError``/``BundleDigestMismatch`` and the
  old code keeps serving. ``"auth_file"``, ``"fetch_attempts"`` and ``"fetch_backoff"`` are as for ``--bundle``.
  The task's sys.stdout/sys.stderr are captured per call. End of input ends the process.
  Descriptor output (every channel): while serving, fds 1 and 2 are pipes the runner owns (its ends close-on-exec), so
  what is written at the descriptor level — a ``subprocess.run(["sh", "-c", "echo hi"])`` inheriting them, a C
  extension, ``os.write(1, ...)`` — is read by a forwarder thread (idle in poll until something is written) and joins
  the running call's captured stdout or stderr respectively (the same stream, bounds and transport as its prints: log
  messages, files, or the response's ``"stdout"``/``"stderr"``). Before a call's response is sent, what it left running
  in its process group is killed and everything already in the pipes is forwarded to it, so a child that finished
  before the task returned is in that call's output, before its response, always. Written between calls (a process
  that left the group and outlived its call), it goes to the runner's original stderr, the replica's own log, in whole
  lines of at most 32 Ki characters; such a process never blocks the runner. Invalid UTF-8 arrives as ``\\xNN`` escapes.
  A task that closes fds 1/2 or dup2's over them gets them pointed back at the pipes when its call ends. The runner's
  own messages and a crash's traceback (faulthandler) go to the original stderr. Bytes written in the instant before
  the interpreter itself dies (``os._exit``, a fatal signal) can be lost with it.
  The worker leads its own process group; when a request ends (before its response is written), every other
  process of that group is killed: a child a task started and left running (``subprocess.Popen(["sleep", "600"])``)
  does not outlive its action. A process that leaves the group on purpose (``start_new_session=True``) is not
  followed. The same happens when input ends or the parent dies. On Linux the worker is a child subreaper (orphaned
  descendants are re-parented to it), so the sweep reads /proc only when the worker has a child left (one waitid call).
  Bounded memory for large values: a call may carry ``"inputs_file": PATH`` (inputs read from that JSON file instead
  of ``"inputs"``), ``"stdout_file"``/``"stderr_file"`` (the call's output captured into those files instead of the
  response's ``"stdout"``/``"stderr"``) and ``"output_file"`` with ``"inline_limit": N``: an output whose JSON is
  longer than N is written to output_file and the response carries ``"output_file"`` instead of ``"output"``.

Serve on a socket (a reusable container; the driver reaches it without podman's attached-stdio relay)::

    python3 flytesharp_runner.py --bundle-dir DIR --serve --serve-socket /flytesharp/io/serve.sock

  the runner binds a Unix socket at PATH (mode 0600, in the folder mounted from the driver's host), prints the line
  ``FLYTESHARP-SERVE-LISTENING`` on its original stdout, accepts exactly one connection (within 120 s, else exit 1),
  then closes the listener and removes PATH: the protocol above runs over that connection, which a reload hands to the
  next interpreter. End of the connection ends the process. A call with ``"stream": true`` (and no stdout_file or
  stderr_file) sends its captured output as it is printed, before its response, as messages
  ``{"id": N, "log": "stdout"|"stderr", "text": "<whole lines, each ending in a newline>"}``, each line at most 32 Ki
  characters (a longer one comes in pieces) and a message at most 32 Ki + 1; an error's message and traceback are cut to 256 Ki characters.

Serve by pull (a reusable Pod: no stdio shared with the driver)::

    python3 flytesharp_runner.py --bundle SRC --digest D --bundle-dir DIR --serve-pull URL --replica ID --controller-token-file FILE

  the same loop and requests as ``--serve``, pulled from the driver's controller API instead of read from stdin:
  ``GET URL/v1/replicas/ID/next`` (long poll: 200 with one request, 204 when none came within the driver's wait, 410
  to stop), the response posted to ``URL/v1/replicas/ID/replies``, a heartbeat to ``…/heartbeat`` every few seconds,
  all with ``Authorization: Bearer <FILE's token>``. Values travel inline (no shared directory: requests name no
  files); a reply the driver refuses as too large (413) is replaced by a small error reply. A reload re-executes with
  the same pull arguments. ``--pull-give-up SECONDS`` ends the loop when the driver stayed unreachable that long.
"""

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import inspect
import io
import json
import os
import signal
import sys
import time
import traceback


def _error(exc):
    t = type(exc)
    name = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    return {"type": name, "message": str(exc), "traceback": _user_traceback(exc)}


_BUNDLE_DIR = None


def _user_traceback(exc):
    """The traceback without the runner's and asyncio's frames: it starts in the task's own code.

    Frames from bundle code name the file relative to the bundle directory, which is relative to root_dir:
    the user's own file, not the sandbox or container copy.
    """
    hidden = (os.path.abspath(__file__), os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep)
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(f.filename) != hidden[0] and not os.path.abspath(f.filename).startswith(hidden[1])
    ]
    if _BUNDLE_DIR is not None:
        for f in frames:
            if _inside(f.filename, _BUNDLE_DIR):
                f.filename = os.path.relpath(os.path.realpath(f.filename), os.path.realpath(_BUNDLE_DIR)).replace(os.sep, "/")
    text = "".join(traceback.format_exception_only(type(exc), exc))
    if not frames:
        return text
    return "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + text


def _split(ref):
    module, sep, function = ref.partition(":")
    if not sep or not module or not function:
        raise ValueError(f"task reference {ref!r} is not of the form package.module:function")
    return module, function


def _defined_names(module):
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == module.__name__
    )


def _inside(path, root):
    path = os.path.realpath(path)
    root = os.path.realpath(root)
    return path == root or path.startswith(root + os.sep)


def _task_function(obj):
    """The plain function behind a Flyte task object, else obj itself.

    flyte-sdk's ``@env.task`` returns a task template (e.g. ``AsyncFunctionTaskTemplate``) that keeps the decorated
    function in ``.func``; outside a Flyte context the template only forwards calls. Only objects whose class comes
    from the ``flyte`` package are unwrapped, so a user's own object with a ``func`` attribute is left alone.
    """
    if inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj):
        return obj
    package = (getattr(type(obj), "__module__", "") or "").split(".")[0]
    func = getattr(obj, "func", None)
    if package == "flyte" and func is not None and (inspect.isfunction(func) or inspect.ismethod(func)):
        return func
    return obj


def describe(ref, bundle_dir):
    try:
        module_name, function_name = _split(ref)
    except ValueError as exc:
        return {"task": ref, "ok": False, "error": {"type": "ValueError", "message": str(exc), "defined": []}}
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as exc:
        spec = None
        find_error = str(exc)
    else:
        find_error = None
    if spec is None or spec.origin is None:
        return {"task": ref, "ok": False, "error": {
            "type": "ModuleNotFoundError",
            "message": find_error or f"No module named {module_name!r}",
            "defined": []}}
    if not _inside(spec.origin, bundle_dir):
        return {"task": ref, "ok": False, "error": {
            "type": "ModuleOutsideBundle",
            "message": f"module {module_name!r} resolves to {spec.origin}, outside the code bundle",
            "defined": []}}
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # the module itself raised on import
        err = _error(exc)
        err["defined"] = []
        err["type"] = "ImportError"
        err["message"] = f"importing {module_name!r} raised {type(exc).__name__}: {exc}"
        return {"task": ref, "ok": False, "error": err}
    relative = os.path.relpath(os.path.realpath(spec.origin), os.path.realpath(bundle_dir)).replace(os.sep, "/")
    fn = getattr(module, function_name, None)
    if fn is None:
        return {"task": ref, "ok": False, "error": {
            "type": "FunctionNotFound",
            "message": f"module {module_name!r} ({relative}) defines no {function_name!r}",
            "defined": _defined_names(module)}}
    if not callable(fn):
        return {"task": ref, "ok": False, "error": {
            "type": "NotCallable",
            "message": f"{module_name}.{function_name} is a {type(fn).__name__}, not a function",
            "defined": _defined_names(module)}}
    task_object = fn
    fn = _task_function(fn)
    parameters = []
    for p in inspect.signature(fn).parameters.values():
        annotation = p.annotation
        if annotation is inspect.Parameter.empty:
            text = None
        elif isinstance(annotation, str):
            text = annotation
        elif isinstance(annotation, type):
            text = annotation.__name__
        else:
            text = str(annotation).replace("typing.", "")
        parameters.append({
            "name": p.name,
            "annotation": text,
            "kind": p.kind.name,
            "has_default": p.default is not inspect.Parameter.empty,
        })
    result = {
        "task": ref,
        "ok": True,
        "file": relative,
        "is_async": inspect.iscoroutinefunction(fn),
        "parameters": parameters,
    }
    if task_object is not fn:
        result["flyte_task"] = True
    return result


def _resolve(ref):
    module_name, function_name = _split(ref)
    module = importlib.import_module(module_name)
    fn = getattr(module, function_name, None)
    if fn is None:
        raise AttributeError(
            f"module {module_name!r} defines no {function_name!r}; it defines: {', '.join(_defined_names(module)) or 'nothing'}")
    return _task_function(fn)


def call(ref, inputs):
    """Runs the function; returns the JSON text of its output (raises on failure)."""
    fn = _resolve(ref)
    result = fn(**inputs)
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    try:
        return json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OutputNotJson(
            f"{ref} returned a {type(result).__name__}, which JSON cannot carry ({exc}); "
            "return numbers, strings, bools, None, lists or dicts") from None


async def _await(awaitable):
    return await awaitable


class OutputNotJson(TypeError):
    """The task returned a value that cannot cross as JSON."""


OutputNotJson.__module__ = "flytesharp"


def _setup_path(bundle_dir, extra=()):
    """Puts the bundle directory first on sys.path, then the extra entries (relative to it, in order).

    The extra entries are the import roots of the uv workspace's packages under root_dir (a member's ``src/`` or
    its directory), derived by FlyteSharp from the workspace and passed with ``--path``; they must stay inside
    the bundle directory.
    """
    global _BUNDLE_DIR
    bundle_dir = os.path.abspath(bundle_dir)
    _BUNDLE_DIR = bundle_dir
    entries = [bundle_dir]
    for rel in extra:
        full = os.path.normpath(os.path.join(bundle_dir, rel))
        if os.path.isabs(rel) or not _inside(full, bundle_dir):
            raise ValueError(f"--path {rel!r} is not a directory inside the bundle")
        entries.append(full)
    for entry in reversed(entries):
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    return bundle_dir


def _lead_process_group():
    """Makes this worker the leader of a process group of its own, which the processes its tasks start inherit."""
    try:
        if os.getpgrp() != os.getpid():
            os.setpgid(0, 0)
    except OSError:
        pass


_SUBREAPER = False


def _become_subreaper():
    """Makes this worker adopt its orphaned descendants (Linux PR_SET_CHILD_SUBREAPER) instead of init: a grandchild a
    task's shell left behind becomes the worker's child. Then "the worker has no child at all" proves that nothing a task
    started is left, which one waitid call answers, so the /proc scan runs only when a task may have left something."""
    global _SUBREAPER
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_child_subreaper = 36
        _SUBREAPER = libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0
    except (ImportError, OSError, AttributeError):
        _SUBREAPER = False


def _may_have_leftovers():
    """False only when no process a task started can still exist: as a subreaper the worker is an ancestor of all of
    them, so none exists when it has no child, not even a zombie (waitid with WNOWAIT reaps nothing)."""
    if not _SUBREAPER:
        return True
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _end_group_leftovers():
    """Kills every other process of this worker's process group (what a finished task left running) and reaps
    those that are the worker's own children, so none stays behind as a zombie. Zombie children outside the group
    (a process that left it on purpose, adopted after its parent ended, then ended itself) are reaped too."""
    me = os.getpid()
    if not hasattr(os, "getpgrp") or os.getpgrp() != me:
        return
    if not _may_have_leftovers():
        return
    members = []
    try:
        names = os.listdir("/proc")
    except OSError:
        names = None
    if names is None:
        # No /proc (macOS): signal the group while this process ignores the signal.
        previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            os.killpg(me, signal.SIGTERM)
        except OSError:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    else:
        for name in names:
            if not name.isdigit() or int(name) == me:
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
                # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
                state, ppid, pgrp = stat[stat.rfind(b")") + 2:].split()[:3]
            except (OSError, ValueError):
                continue
            if int(pgrp) == me:
                members.append((int(name), int(ppid)))  # zombies too: killing one is harmless, reaping it frees it
            elif state == b"Z" and int(ppid) == me:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(int(name), os.WNOHANG)
        for pid, _ in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid, ppid in members:
            if ppid == me:
                try:
                    os.waitpid(pid, 0)  # SIGKILL ends it promptly; reaped, it leaves no zombie
                except ChildProcessError:
                    pass
        # Others' children (a grandchild a shell left behind) cannot be waited for: the kill is delivered
        # asynchronously, so watch them die (gone, or a zombie for their new parent to reap), for a bounded time.
        deadline = time.monotonic() + 5
        pending = [pid for pid, ppid in members if ppid != me]
        while pending and time.monotonic() < deadline:
            pending = [pid for pid in pending if _running(pid)]
            if pending:
                time.sleep(0.01)


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:].split()[:1] != [b"Z"]


def _exit_with_parent():
    """Ends the worker when the process that started it dies (killed, crashed), even in the middle of a task."""
    import threading
    import time

    parent = os.getppid()

    def watch():
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                _end_group_leftovers()
                os._exit(1)

    threading.Thread(target=watch, name="flytesharp-parent-watch", daemon=True).start()


def _capture(path):
    """Where a call's sys.stdout/sys.stderr go: a file the driver follows line by line while the call runs (bounded
    memory on both sides, however much the task prints), or a StringIO when the request names no file. The file is
    line-buffered so each printed line is there for the driver at once, not when a block fills or the call returns."""
    if path:
        return open(path, "w", buffering=1, encoding="utf-8", errors="backslashreplace", newline="\n")
    return io.StringIO()


def _captured(stream):
    return stream.getvalue() if isinstance(stream, io.StringIO) else ""


# Fds 1 and 2 while serving (see _DescriptorOutput).
_descriptors = None

# What a reload starts the next interpreter with: the replica's environment variables (secrets included) and working
# directory as they were before any task ran, so one code version's os.environ / os.chdir never reach the next.
_serve_start = None


class _PullChannel:
    """Serve requests pulled from the driver's controller API over HTTP (a Pod shares no stdio with the driver):
    ``GET {url}/v1/replicas/{id}/next`` long-polls for the next request (200: a request, 204: none yet, ask again,
    410: stop), ``POST {url}/v1/replicas/{id}/replies`` hands each response back, and a heartbeat
    (``POST …/heartbeat``) says the replica is alive while a call runs. Every request carries the run's token from
    ``token_file`` (a mounted Kubernetes Secret). The loop ends when the driver says stop, or when it stayed
    unreachable for ``give_up`` seconds (a driver that is gone)."""

    HEARTBEAT_SECONDS = 10
    POLL_TIMEOUT_SECONDS = 40

    def __init__(self, url, replica, token_file, give_up):
        import threading
        import urllib.parse

        with open(token_file, encoding="ascii") as f:
            token = f.read().strip()
        self._args = ["--serve-pull", url, "--replica", replica, "--controller-token-file", token_file, "--pull-give-up", str(give_up)]
        self._base = url.rstrip("/") + "/v1/replicas/" + urllib.parse.quote(replica, safe="")
        self._headers = {"Authorization": "Bearer " + token}
        self._give_up = give_up
        self._max_reply = None
        # Deleting the Pod sends SIGTERM, which a PID 1 would otherwise ignore until the kill after the grace period.
        signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
        threading.Thread(target=self._heartbeat, name="flytesharp-heartbeat", daemon=True).start()

    def _send(self, method, path, body=None, timeout=30):
        import urllib.error
        import urllib.request

        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self._base + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def _retrying(self, method, path, body=None, timeout=30):
        """The driver's answer; connection failures are retried (with backoff) until ``give_up`` seconds passed. A reply
        retried after the driver took it is answered 409 (already answered), which is harmless."""
        import http.client

        started = time.monotonic()
        delay = 0.2
        while True:
            try:
                return self._send(method, path, body, timeout)
            except (OSError, ValueError, http.client.HTTPException) as exc:
                if time.monotonic() - started > self._give_up:
                    print(f"flytesharp: the driver's controller at {self._base} is unreachable ({exc}); the replica stops", file=sys.stderr)
                    return None, b""
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _heartbeat(self):
        while True:
            time.sleep(self.HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):
                self._send("POST", "/heartbeat", b"{}", timeout=10)

    def requests(self):
        while True:
            status, body = self._retrying("GET", "/next", timeout=self.POLL_TIMEOUT_SECONDS)
            if status == 200:
                line = body.decode("utf-8")
                self._max_reply = json.loads(line).get("max_reply_bytes")
                yield line
            elif status == 204:
                continue
            else:
                if status not in (None, 410):
                    print(f"flytesharp: the driver refused this replica's poll ({status}): {body[:500]!r}; the replica stops", file=sys.stderr)
                return

    def send(self, body):
        data = body.encode("utf-8")
        limit = self._max_reply
        status, answer = (413, b"") if limit is not None and len(data) > limit else self._retrying("POST", "/replies", data)
        if status == 413:
            # Too large for the driver: the call fails with a small error instead of a body it would refuse.
            rid = json.loads(body).get("id")
            accepted = f"the {limit} bytes" if limit is not None else "what"
            error = ValueError(f"the task's reply is {len(data)} bytes, more than {accepted} the driver accepts from a Pod; "
                               "return large data by reference (a path or URL) instead of by value")
            error_body = json.dumps({"id": rid, "ok": False, "error": _error(error), "stdout": "", "stderr": ""})
            status, answer = self._retrying("POST", "/replies", error_body.encode("utf-8"))
        if status not in (None, 200, 204):
            print(f"flytesharp: the driver refused a reply ({status}): {answer[:500]!r}", file=sys.stderr)

    def before_exec(self):
        """The pull arguments, so the next interpreter pulls from the same mailbox."""
        return list(self._args)


def serve(bundle_dir, socket_path=None, socket_fd=None, channel=None):
    """The one serve loop, over any channel: stdio (a local interpreter), a Unix socket (a reusable container) or pull
    (a Pod)."""
    global _serve_start
    _serve_start = (dict(os.environ), os.getcwd())
    _lead_process_group()
    _become_subreaper()
    _exit_with_parent()
    if channel is None:
        if socket_path is not None or socket_fd is not None:
            channel = _SocketChannel.open(socket_path, socket_fd)
        else:
            channel = _StdioChannel(os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1), sys.stdin)
    global _descriptors
    _descriptors = _DescriptorOutput.install()  # fds 1 and 2 become pipes: what is written there never reaches the protocol
    for line in channel.requests():
        if not line.strip():
            continue
        request = json.loads(line)
        rid = request.get("id")
        response = {"id": rid}
        out = err = None
        try:
            if request.get("op") == "describe":
                response["output"] = [describe(r, bundle_dir) for r in request["tasks"]]
                response["ok"] = True
                body = json.dumps(response)
            elif request.get("op") == "reload":
                _reload(request, channel, response)
                continue  # only reached when the reload was refused: its error is already written
            else:
                if request.get("stream") and isinstance(channel, _SocketChannel):
                    out, err = _StreamedOutput("stdout", rid, channel), _StreamedOutput("stderr", rid, channel)
                else:
                    out, err = _capture(request.get("stdout_file")), _capture(request.get("stderr_file"))
                _descriptors.begin_call(out, err)
                try:
                    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                        output = call(request["task"], _inputs_of(request))
                finally:
                    # What the call left running ends first, then everything it wrote to fds 1/2 joins its log, before its reply.
                    _end_group_leftovers()
                    _descriptors.end_call()
                out.flush()
                err.flush()
                response.update(ok=True, stdout=_captured(out), stderr=_captured(err))
                limit, output_file = request.get("inline_limit"), request.get("output_file")
                if output_file and limit is not None and len(output) > limit:
                    # json.dumps escapes to ASCII, so characters are bytes: the driver stores this file as a blob.
                    _write_outputs(output_file, output)
                    response["output_file"] = output_file
                    body = json.dumps(response)
                else:
                    body = json.dumps(response)
                    # Splice the already-serialized output in rather than parsing it back.
                    body = body[:-1] + ', "output": ' + output + "}"
        except BaseException as exc:  # report everything, including SystemExit from task code
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = _error(exc)
            if isinstance(channel, _SocketChannel):
                error = _bounded_error(error)
            response.update(ok=False, error=error, stdout=_captured(out) if out else "", stderr=_captured(err) if err else "")
            body = json.dumps(response)
        finally:
            for stream in (out, err):
                if stream is not None and not isinstance(stream, io.StringIO):
                    with contextlib.suppress(Exception):
                        stream.close()
        _end_group_leftovers()
        channel.send(body)
    _end_group_leftovers()


class _StdioChannel:
    """The serve protocol over the process's stdin and its original stdout (a local warm interpreter)."""

    def __init__(self, proto, stdin):
        self._proto, self._stdin = proto, stdin

    def requests(self):
        return self._stdin

    def send(self, line):
        self._proto.write(line + "\n")
        self._proto.flush()

    def before_exec(self):
        """The protocol stream becomes fd 1 again (serve pointed fd 1 at a pipe; dup'd fds do not survive exec)."""
        os.dup2(self._proto.fileno(), 1)
        return []


# A message or log line longer than this is cut into pieces: what the driver reads per line stays bounded.
_LOG_CHUNK_CHARS = 32 * 1024
# An error's message and traceback are cut to this many characters on the socket (the driver bounds each line it reads).
_ERROR_TEXT_CHARS = 256 * 1024


class _SocketChannel:
    """The serve protocol over one Unix socket connection (a reusable container): the runner listens at a path in the
    mounted I/O folder, tells the driver on its original stdout (``FLYTESHARP-SERVE-LISTENING``), accepts exactly one
    connection, then removes the listening socket and its path, so nothing connects later (task code can write that
    folder). The connection survives a reload (its descriptor is passed to the next interpreter with ``--serve-fd``).
    Sends are serialized: a task's threads may print while another message is being written."""

    ACCEPT_TIMEOUT_SECONDS = 120

    def __init__(self, sock):
        import threading

        self._sock = sock
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path, fd):
        import socket

        if fd is not None:
            os.set_inheritable(fd, False)  # passed to this interpreter only, never on to a task's subprocesses
            return cls(socket.socket(fileno=fd))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o177)  # the socket file is the driver's user's only (rw-------)
        try:
            listener.bind(path)
        finally:
            os.umask(previous)
        listener.listen(1)
        out = sys.__stdout__ or sys.stdout
        out.write(SERVE_LISTENING + "\n")
        out.flush()
        listener.settimeout(cls.ACCEPT_TIMEOUT_SECONDS)
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            print(f"flytesharp: no driver connected to {path} within {cls.ACCEPT_TIMEOUT_SECONDS} s", file=sys.stderr)
            sys.exit(1)
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                os.unlink(path)
        conn.settimeout(None)
        return cls(conn)

    def requests(self):
        reader = self._sock.makefile("rb")
        for raw in reader:
            yield raw.decode("utf-8")

    def send(self, line):
        data = (line + "\n").encode("utf-8", "backslashreplace")
        with self._lock:
            self._sock.sendall(data)

    def log(self, rid, stream, text):
        # ASCII JSON (lone surrogates a task printed become escapes the driver's JSON reader accepts after this encode).
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        self.send(json.dumps({"id": rid, "log": stream, "text": text}))

    def before_exec(self):
        os.set_inheritable(self._sock.fileno(), True)
        return ["--serve-fd", str(self._sock.fileno())]


class _StreamedOutput(io.TextIOBase):
    """A call's sys.stdout/sys.stderr on the socket: complete lines are sent as they are printed, as messages
    ``{"id", "log": "stdout"|"stderr", "text"}`` whose text is whole lines, each ending in a newline; a line longer than
    the chunk size comes out in pieces, and an unfinished last line when the call ends. Nothing is kept but the current
    unfinished line. ``fileno()`` is the process's own descriptor (a pipe while serving, see _DescriptorOutput), so
    output a subprocess writes there still reaches the action's log, on the same stream. Writing after the call ended fails like a closed
    file."""

    def __init__(self, name, rid, channel):
        import threading

        super().__init__()
        self._name, self._rid, self._channel = name, rid, channel
        self._pending = ""
        self._lock = threading.Lock()

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "backslashreplace"

    def writable(self):
        return True

    def fileno(self):
        return 1 if self._name == "stdout" else 2

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        with self._lock:
            if self.closed:
                raise ValueError("I/O operation on closed file.")
            text = self._pending + s
            cut = text.rfind("\n") + 1
            if cut:
                self._send(text[:cut])
            tail = text[cut:]
            while len(tail) >= _LOG_CHUNK_CHARS:
                self._channel.log(self._rid, self._name, tail[:_LOG_CHUNK_CHARS] + "\n")
                tail = tail[_LOG_CHUNK_CHARS:]
            self._pending = tail
        return len(s)

    def flush(self):
        # An unfinished line waits for its end (or the call's): a flush in the middle of a line does not split it.
        if self.closed:
            raise ValueError("I/O operation on closed file.")

    def close(self):
        with self._lock:
            if self.closed:
                return
            if self._pending:
                self._send(self._pending + "\n")
                self._pending = ""
            super().close()

    def _send(self, text):
        """Sends whole lines (``text`` ends in a newline) in messages of at most a chunk each, a longer line in pieces."""
        while text:
            if len(text) <= _LOG_CHUNK_CHARS + 1:
                piece, text = text, ""
            else:
                end = text.rfind("\n", 0, _LOG_CHUNK_CHARS + 1) + 1
                if end == 0:
                    piece, text = text[:_LOG_CHUNK_CHARS] + "\n", text[_LOG_CHUNK_CHARS:]
                else:
                    piece, text = text[:end], text[end:]
            self._channel.log(self._rid, self._name, piece)


class _DescriptorOutput:
    """Output written to file descriptors 1 and 2 while serving (a subprocess inheriting them, a C extension,
    ``os.write(1, …)``), attributed to the call that is running when it is read.

    Each descriptor is pointed at a pipe the runner owns (its ends are close-on-exec, so only fds 1 and 2 are inherited).
    A forwarder thread, idle in ``poll`` until something is written, reads both pipes and hands the text (UTF-8, invalid
    bytes as ``\\xNN`` escapes) to the current call's stdout or stderr capture, the same objects the task's own prints
    go to (so the stream, the line bounds and the transport are the channel's: log messages on a socket, files or the
    reply for the others). Between calls it goes to the replica's own log, the process's original stderr, in whole lines
    of at most ``_LOG_CHUNK_CHARS``. Before a call's reply is sent, :meth:`end_call` reads, under the forwarder's lock,
    everything already in the pipes: a writer that finished before the task returned has its bytes in the kernel buffer
    (or already read by the forwarder, which forwards under the same lock), so its output reaches the call's log before
    the reply, on the same channel. A task that closes or replaces fds 1/2 gets them pointed back at the pipes when its
    call ends."""

    def __init__(self):
        import codecs
        import fcntl
        import select
        import termios
        import threading

        self._ioctl, self._fionread = fcntl.ioctl, termios.FIONREAD

        self._original = (os.dup(1), os.dup(2))  # non-inheritable copies: restored before a reload's exec
        self._pipes = []
        for target in (1, 2):
            read, write = os.pipe()  # both close-on-exec: only the dup2'd fd 1/2 reach a task's subprocesses
            os.set_blocking(read, False)
            self._pipes.append((read, write, target))
        self._names = ("stdout", "stderr")
        self._decoders = [codecs.getincrementaldecoder("utf-8")(errors="backslashreplace") for _ in self._pipes]
        self._replica_pending = ["", ""]
        self._current = None  # (stdout capture, stderr capture) of the running call
        self._lock = threading.Lock()
        self._drain_waiting = False
        self._forwarding = True
        self._stop_lock = threading.Lock()
        self._poll, self._pending = select.poll(), select.poll()  # the forwarder's, and end_call's (poll(0): anything left?)
        for read, _, _ in self._pipes:
            self._poll.register(read, select.POLLIN)
            self._pending.register(read, select.POLLIN)
        self._undecoded = False  # bytes were forwarded since the last end_call (the decoders may hold a partial character)
        # The runner's own messages (and a crash's traceback) go to the original stderr, never through the pipes.
        own = open(self._original[1], "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
        threading.Thread(target=self._forward, name="flytesharp-fd-output", daemon=True).start()
        # Nothing above changed the process: only now, with the reader running, do fds 1/2 become the pipes.
        for _, write, target in self._pipes:
            os.dup2(write, target)
        sys.stderr = own
        try:
            import faulthandler

            faulthandler.enable(file=own)
        except (ImportError, OSError, ValueError, RuntimeError):
            pass

    @classmethod
    def install(cls):
        """Forwarding from fds 1/2, or (a platform without poll or FIONREAD, no descriptors left) fd 1 pointed at stderr
        as the only protection of the protocol, said once on stderr."""
        try:
            return cls()
        except (ImportError, OSError, AttributeError, RuntimeError) as exc:
            os.dup2(2, 1)
            print(f"flytesharp: output written to file descriptors 1 and 2 goes to this process's stderr, not the action's log "
                  f"({type(exc).__name__}: {exc})", file=sys.stderr)
            return _NoDescriptorOutput()

    def begin_call(self, out, err):
        """From now on descriptor output is the call's. (What the forwarder read before is the replica's; the pipes are
        not drained here: the forwarder reads as soon as anything is written, and a write racing the request's arrival
        belongs to no call in particular.)"""
        self._drain_waiting = True
        with self._lock:
            self._drain_waiting = False
            for index in (0, 1):
                if self._replica_pending[index]:
                    self._replica_log(index, "\n")
            self._current = (out, err)

    def end_call(self):
        """Forwards what is already in the pipes to the call that is ending, then detaches it; fds 1/2 point at the
        pipes again if the task closed or replaced them."""
        self._drain_waiting = True
        with self._lock:
            self._drain_waiting = False
            if self._pending.poll(0) or self._undecoded:
                self._drain(final=True)
            self._current = None
        # Unconditionally: as cheap as checking, and a task that closed fd 1/2 or dup2'd a file over them is undone.
        if self._forwarding:
            try:
                os.dup2(self._pipes[0][1], 1)
                os.dup2(self._pipes[1][1], 2)
                return
            except OSError as exc:  # task code closed the runner's own ends
                self._stop(exc)
        for target in (1, 2):
            with contextlib.suppress(OSError):
                os.dup2(self._original[1], target)  # nobody reads the pipes any more

    def before_exec(self):
        """A reload: what is in the pipes goes to the replica's log, and fds 1/2 are the process's original ones again
        (the next interpreter makes its own pipes; these, close-on-exec, end with this one)."""
        self.end_call()
        with self._lock:
            for index in (0, 1):
                if self._replica_pending[index]:
                    self._replica_log(index, "\n")
            for original, (_, _, target) in zip(self._original, self._pipes):
                os.dup2(original, target)

    def _drain(self, final=False):
        """Reads, without blocking, as many bytes as each pipe holds now (a writer that keeps writing cannot hold the
        reply back). Called with the lock held."""
        for index, (read, _, _) in enumerate(self._pipes):
            try:
                available = int.from_bytes(self._ioctl(read, self._fionread, b"\0\0\0\0"), sys.byteorder, signed=True)
            except OSError:
                available = 0
            while available > 0:
                try:
                    data = self._read(read, min(available, 1 << 16))
                except OSError:
                    break  # the task closed the runner's own end: the forwarder reports it
                if not data:
                    break
                available -= len(data)
                self._deliver(index, data)
            if final:
                tail = self._decoders[index].decode(b"", final=True)  # an unfinished UTF-8 sequence, as escapes
                if tail:
                    self._dispatch(index, tail)
        if final:
            self._undecoded = False

    @staticmethod
    def _read(fd, size):
        try:
            return os.read(fd, size)
        except BlockingIOError:
            return b""

    def _deliver(self, index, data):
        self._undecoded = True
        text = self._decoders[index].decode(data)
        if text:
            self._dispatch(index, text)

    def _dispatch(self, index, text):
        current = self._current
        if current is not None:
            try:
                current[index].write(text)
                return
            except (ValueError, OSError):
                pass  # the task closed its capture: the replica's log keeps the text
        self._replica_log(index, text)

    def _replica_log(self, index, text):
        """Writes whole lines (cut at _LOG_CHUNK_CHARS) to the original stderr; an unfinished line waits for its end."""
        text = self._replica_pending[index] + text
        cut = text.rfind("\n") + 1
        lines, tail = text[:cut], text[cut:]
        pieces = []
        for line in lines.splitlines(keepends=True):
            while len(line) > _LOG_CHUNK_CHARS + 1:
                pieces.append(line[:_LOG_CHUNK_CHARS] + "\n")
                line = line[_LOG_CHUNK_CHARS:]
            pieces.append(line)
        while len(tail) >= _LOG_CHUNK_CHARS:
            pieces.append(tail[:_LOG_CHUNK_CHARS] + "\n")
            tail = tail[_LOG_CHUNK_CHARS:]
        self._replica_pending[index] = tail
        if pieces:
            with contextlib.suppress(OSError):  # a replica log nobody reads any more fails no call
                _write_all(self._original[1], "".join(pieces).encode("utf-8", "backslashreplace"))

    def _forward(self):
        import select

        gone = select.POLLHUP | select.POLLERR | select.POLLNVAL
        try:
            while True:
                events = self._poll.poll()
                if self._drain_waiting:
                    time.sleep(0.001)  # a call is ending: its drain goes first, even while a writer floods the pipes
                with self._lock:
                    for fd, event in events:
                        index = 0 if fd == self._pipes[0][0] else 1
                        data = self._read(fd, 1 << 16)
                        if data:
                            self._deliver(index, data)
                        elif event & gone:
                            # Only when task code closed the runner's own ends (it holds the write ends open itself).
                            raise OSError(f"the {self._names[index]} pipe broke (poll event {event:#x})")
        except BaseException as exc:  # never leave writers blocked on a pipe nobody reads
            self._stop(exc)

    def _stop(self, exc):
        """Forwarding ends (task code closed the runner's own pipe ends): fds 1/2 go to the original stderr from now on,
        never to the original stdout (it may be the protocol), and the replica's log says so once."""
        with self._stop_lock:
            if not self._forwarding:
                return
            self._forwarding = False
        for target in (1, 2):
            with contextlib.suppress(OSError):
                os.dup2(self._original[1], target)
        with contextlib.suppress(Exception):
            print(f"flytesharp: output written to file descriptors 1 and 2 goes to this replica's log from now on, not to the "
                  f"action's: task code closed the runner's own pipe ({exc!r})", file=sys.stderr)


class _NoDescriptorOutput:
    """Where _DescriptorOutput cannot be installed: fd 1 points at stderr, nothing is forwarded."""

    def begin_call(self, out, err):
        pass

    def end_call(self):
        pass

    def before_exec(self):
        pass


def _write_all(fd, data):
    """os.write until all of data is written (the original stderr may be non-blocking: it is shared with the parent)."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except (BlockingIOError, InterruptedError):
            time.sleep(0.001)


def _bounded_error(error):
    for key in ("type", "message", "traceback"):
        value = error.get(key)
        if isinstance(value, str) and len(value) > _ERROR_TEXT_CHARS:
            error[key] = value[:_ERROR_TEXT_CHARS] + f"... ({len(value) - _ERROR_TEXT_CHARS} more characters cut)"
    return error


def _reload(request, channel, response):
    """Serves another code bundle in a fresh interpreter, in the same process (a reusable container keeps running):
    fetches and verifies the bundle into its own per-digest directory (once: a directory already there is reused),
    answers, then replaces this interpreter (os.execv) with a runner serving that directory. Nothing of the old
    code's modules, globals, environment variables or working directory survives. A refused bundle is answered as an error and the old interpreter serves on."""
    bundle_dir = request["bundle_dir"]
    try:
        if not os.path.isdir(bundle_dir):
            headers = _auth_headers(request["auth_file"]) if request.get("auth_file") else None
            fetch_bundle(request["bundle"], request["digest"], bundle_dir, headers,
                         request.get("fetch_attempts", FETCH_ATTEMPTS), request.get("fetch_backoff", FETCH_BACKOFF_SECONDS))
    except Exception as exc:  # a refusal, never a half-reloaded worker
        if not isinstance(exc, BundleError):
            exc = BundleError(f"code bundle {request.get('bundle')} could not be unpacked: {type(exc).__name__}: {exc}")
        response.update(ok=False, error=_error(exc))
        channel.send(json.dumps(response))
        return
    argv = [sys.executable, os.path.abspath(__file__), "--bundle-dir", bundle_dir, "--serve"]
    for rel in request.get("paths") or []:
        argv += ["--path", rel]
    _end_group_leftovers()
    response["ok"] = True
    channel.send(json.dumps(response))
    sys.stdout.flush()
    sys.stderr.flush()
    _descriptors.before_exec()
    argv += channel.before_exec()
    environment, directory = _serve_start
    os.chdir(directory)
    os.execve(sys.executable, argv, environment)


def _inputs_of(request):
    """The call's inputs: inline, or (when large) from the file the driver wrote them to."""
    path = request.get("inputs_file")
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return request.get("inputs") or {}


# --- Code bundle fetch, verify and unpack: the first thing every container and pod does ----------

class BundleError(Exception):
    """The code bundle could not be fetched, failed its digest check, or is unsafe to unpack."""


class BundleDigestMismatch(BundleError):
    """The fetched bundle's bytes do not hash to the digest the run recorded."""


BundleError.__module__ = "flytesharp"
BundleDigestMismatch.__module__ = "flytesharp"

_MAX_ENTRIES = 100_000
_MAX_BYTES = 4 << 30


# One retry policy with the C# registry client (Registry/RegistryRetry.cs): FlyteSharp passes its values with
# --fetch-attempts/--fetch-backoff; these defaults are the same numbers for a runner started by hand.
FETCH_ATTEMPTS = 5
FETCH_BACKOFF_SECONDS = 0.2
FETCH_MAX_RETRY_AFTER_SECONDS = 60.0
_RETRYABLE_STATUS = frozenset([429]) | frozenset(range(500, 600))


def _retry_after(headers):
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    import email.utils

    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _opener():
    """urllib with redirects that never carry the registry's Authorization header to another host (blob storage)."""
    import urllib.parse
    import urllib.request

    class SameHostAuthorization(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
                new.remove_header("Authorization")
            return new

    return urllib.request.build_opener(SameHostAuthorization)


def _download(source, out, headers, attempts, backoff):
    """GETs source into the open file out and returns its sha256 object, retrying 5xx, 429 and connection errors.

    The wait before retry n is backoff * 2**(n-1), or what a Retry-After header asks for; a Retry-After longer than
    FETCH_MAX_RETRY_AFTER_SECONDS ends the retries. A download that breaks off is restarted from the beginning.
    """
    import hashlib
    import http.client
    import urllib.error
    import urllib.request

    opener = _opener()
    attempts = max(1, int(attempts))
    for attempt in range(1, attempts + 1):
        out.seek(0)
        out.truncate()
        sha = hashlib.sha256()
        wait = None
        try:
            request = urllib.request.Request(source, headers=dict(headers or {}))
            with opener.open(request, timeout=120) as stream:
                while True:
                    chunk = stream.read(1 << 16)
                    if not chunk:
                        break
                    sha.update(chunk)
                    out.write(chunk)
            return sha
        except urllib.error.HTTPError as exc:
            if exc.code not in _RETRYABLE_STATUS:
                hint = " (check the store's credentials)" if exc.code in (401, 403) else ""
                raise BundleError(f"could not download the code bundle from {source}: HTTP {exc.code} {exc.reason}{hint}") from None
            wait = _retry_after(exc.headers)
            if exc.code == 429 and (attempt == attempts or (wait is not None and wait > FETCH_MAX_RETRY_AFTER_SECONDS)):
                asked = f"; it asks to wait {wait:.0f} s" if wait is not None else ""
                raise BundleError(
                    f"the registry is rate limiting the code bundle download from {source} (HTTP 429 Too Many Requests "
                    f"after {attempt} attempt(s){asked})") from None
            if wait is not None and wait > FETCH_MAX_RETRY_AFTER_SECONDS or attempt == attempts:
                raise BundleError(f"could not download the code bundle from {source} after {attempt} attempt(s): HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            if attempt == attempts:
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                raise BundleError(f"could not download the code bundle from {source} after {attempt} attempt(s): {reason}") from None
        time.sleep(wait if wait is not None else backoff * (2 ** (attempt - 1)))
    raise BundleError(f"could not download the code bundle from {source}")  # unreachable: the loop returns or raises


def fetch_bundle(source, digest, dest, headers=None, attempts=FETCH_ATTEMPTS, backoff=FETCH_BACKOFF_SECONDS):
    """Fetches the bundle (a local path or an http(s) URL), verifies its sha256 digest, unpacks it into dest.

    An http(s) download is retried like every registry call (see _download); headers (e.g. Authorization for a
    private store) go to the registry only. Nothing is unpacked unless the digest matches. Unpacking is as strict
    as the C# BundleExtractor (see _safe_extract): absolute paths, '..', backslashes, links of any kind, duplicates,
    devices and FIFOs are refused; entry count and total size are capped.
    """
    import hashlib
    import shutil
    import tarfile
    import tempfile

    if not (isinstance(digest, str) and digest.startswith("sha256:") and len(digest) == 71):
        raise BundleError(f"bundle digest {digest!r} is not of the form sha256:<64 hex digits>")
    dest = os.path.abspath(dest)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", suffix=".tar.gz", dir=os.path.dirname(dest))
    try:
        with os.fdopen(fd, "w+b") as out:
            if source.startswith(("http://", "https://")):
                sha = _download(source, out, headers, attempts, backoff)
            else:
                sha = hashlib.sha256()
                try:
                    stream = open(source, "rb")
                except OSError as exc:
                    raise BundleError(f"could not open the code bundle {source}: {exc}") from None
                with stream:
                    while True:
                        chunk = stream.read(1 << 16)
                        if not chunk:
                            break
                        sha.update(chunk)
                        out.write(chunk)
        actual = "sha256:" + sha.hexdigest()
        if actual != digest:
            raise BundleDigestMismatch(
                f"code bundle {source} has digest {actual}, but the run expects {digest}; refusing to unpack it")
        # Unpack beside the destination and rename: a refused entry leaves nothing half-unpacked.
        stage = tempfile.mkdtemp(prefix=".bundle-", dir=os.path.dirname(dest))
        try:
            with tarfile.open(tmp, "r:gz") as archive:
                _safe_extract(archive, stage)
            if os.path.isdir(dest) and not os.listdir(dest):
                os.rmdir(dest)
            os.rename(stage, dest)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return dest


_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _entry_parts(name):
    """The entry's path components, or the reason its name is refused: the C# BundleEntryName rule, kept identical
    (the bundler refuses the same names, so a genuine bundle never trips it)."""
    if not name:
        return None, "empty name"
    if "\0" in name:
        return None, "NUL in the path"
    if "\\" in name:
        return None, "backslash in the path"
    if name[0] == "/" or (len(name) >= 2 and name[1] == ":" and name[0] in _ASCII_LETTERS):
        return None, "absolute path"
    components = name.split("/")
    if ".." in components:
        return None, "'..' in the path"
    parts = [p for p in components if p not in ("", ".")]
    if not parts:
        return None, "path names the destination itself"
    return parts, None


def _refused(name, reason):
    return BundleError(f"refused to extract code bundle entry {name!r}: {reason}; nothing was extracted")


def _safe_extract(archive, dest):
    """Unpacks archive into dest (an empty directory this process made) as strictly as the C# BundleExtractor.

    Bundles hold only directories and regular files, so links of any kind, devices, FIFOs, sparse files and global
    headers are refused, as are the names _entry_parts refuses, duplicates, and a file and a directory of the same
    name. The disk is then written without ever resolving a path by name: each parent is opened from its own parent's
    descriptor with O_NOFOLLOW | O_DIRECTORY (a link or a file there fails instead of being followed) and each file is
    created with O_CREAT | O_EXCL | O_NOFOLLOW (never opening anything that is already there), so nothing can land
    outside dest even if something other than this archive put a link inside it.
    """
    import stat
    import tarfile
    import zlib

    if not {os.open, os.mkdir, os.stat} <= os.supports_dir_fd:
        raise BundleError("this platform cannot unpack a code bundle safely (no openat/mkdirat)")
    cloexec = getattr(os, "O_CLOEXEC", 0)
    dir_flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | cloexec
    file_flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | cloexec
    corrupt = (tarfile.TarError, EOFError, zlib.error, OSError, ValueError)
    made = {}  # "a/b" -> "implied" (a parent of an entry), "dir" or "file": what entries so far made there
    entries = 0
    total = 0
    name = None
    root_fd = os.open(dest, dir_flags)
    cached = (None, None)  # (parent components, open descriptor): entries come sorted, so parents repeat

    def open_parent(parent):
        fd = root_fd
        try:
            for i, part in enumerate(parent):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                try:
                    child = os.open(part, dir_flags, dir_fd=fd)
                except OSError as exc:
                    raise _refused(name, f"{'/'.join(parent[:i + 1])!r} is not a real directory inside the bundle "
                                         f"directory ({exc.strerror})") from None
                if fd != root_fd:
                    os.close(fd)
                fd = child
        except BaseException:
            if fd != root_fd:
                os.close(fd)
            raise
        return fd

    def parent_fd(parent):
        nonlocal cached
        if cached[0] == parent:
            return cached[1]
        fd = open_parent(parent)
        if cached[1] is not None and cached[1] != root_fd:
            os.close(cached[1])
        cached = (parent, fd)
        return fd

    def record(parts, kind):
        for i in range(1, len(parts)):
            path = "/".join(parts[:i])
            if made.get(path) == "file":
                raise _refused(name, f"{path!r} is a file, so it cannot hold a directory or file")
            made.setdefault(path, "implied")
        path = "/".join(parts)
        existing = made.get(path)
        if existing is not None and not (existing == "implied" and kind == "dir"):
            raise _refused(name, "duplicate entry" if existing == kind
                           else f"a {'file' if existing == 'file' else 'directory'} of that name came before it")
        made[path] = kind

    try:
        while True:
            try:
                member = archive.next()
            except corrupt as exc:
                after = "" if name is None else f" (after entry {name!r})"
                raise BundleError(f"code bundle is corrupt or truncated{after}: {exc}") from None
            if archive.pax_headers:
                # A global header renames or resizes every entry after it; bundles never hold one.
                raise BundleError("refused to extract the code bundle: it holds a global extended header, which would change "
                                  "the entries after it (bundles never contain one); nothing was extracted")
            if member is None:
                break
            name = member.name
            entries += 1
            if entries > _MAX_ENTRIES:
                raise _refused(name, f"more than {_MAX_ENTRIES} entries")
            parts, problem = _entry_parts(name)
            if problem:
                raise _refused(name, problem)
            if member.type == tarfile.DIRTYPE:
                record(parts, "dir")
                fd = parent_fd(parts[:-1])
                try:
                    os.mkdir(parts[-1], 0o755, dir_fd=fd)
                except FileExistsError:
                    if not stat.S_ISDIR(os.stat(parts[-1], dir_fd=fd, follow_symlinks=False).st_mode):
                        raise _refused(name, "something that is not a directory is already there") from None
            elif member.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
                if member.sparse is not None:
                    raise _refused(name, "sparse file (bundles never contain one)")
                total += member.size
                if total > _MAX_BYTES:
                    raise _refused(name, f"unpacked size over {_MAX_BYTES} bytes")
                record(parts, "file")
                fd = parent_fd(parts[:-1])
                try:
                    out = os.open(parts[-1], file_flags, 0o600, dir_fd=fd)
                except OSError as exc:
                    raise _refused(name, f"cannot be written ({exc.strerror})") from None
                with os.fdopen(out, "wb") as f:
                    # Only 0644/0755 (the owner's execute bit decides): never setuid, setgid, sticky or world-writable.
                    os.fchmod(f.fileno(), 0o755 if member.mode & 0o100 else 0o644)
                    source = archive.extractfile(member)
                    while True:
                        try:
                            chunk = source.read(1 << 16)
                        except corrupt as exc:
                            raise BundleError(f"code bundle is corrupt or truncated (in entry {name!r}): {exc}") from None
                        if not chunk:
                            break
                        f.write(chunk)
            elif member.issym() or member.islnk():
                kind = "symbolic" if member.issym() else "hard"
                raise _refused(name, f"{kind} link to {member.linkname!r} (bundles never contain links)")
            elif member.ischr() or member.isblk() or member.isfifo():
                raise _refused(name, "special file (device or FIFO)")
            else:
                raise _refused(name, f"unsupported entry type {member.type!r}")
    finally:
        if cached[1] is not None and cached[1] != root_fd:
            os.close(cached[1])
        os.close(root_fd)


def _auth_headers(path):
    """The registry credentials FlyteSharp mounted read-only for this container (never on the command line or in env)."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f).get("authorization")
    except (OSError, ValueError, AttributeError) as exc:
        raise BundleError(f"cannot read the registry credentials file {path}: {type(exc).__name__}") from None
    if not isinstance(value, str) or not value or "\n" in value or "\r" in value:
        raise BundleError(f"the registry credentials file {path} holds no usable 'authorization' value")
    return {"Authorization": value}


RESULT_BEGIN = "FLYTESHARP-RESULT-BEGIN "
RESULT_END = " FLYTESHARP-RESULT-END"


def _print_result(text):
    """The result on one marked line of the original stdout (pod logs merge stdout and stderr)."""
    out = sys.__stdout__ or sys.stdout
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    out.write(RESULT_BEGIN + text + RESULT_END + "\n")
    out.flush()


def _write_outputs(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


REPLY_WRITTEN = "FLYTESHARP-REPLY-WRITTEN"
SERVE_LISTENING = "FLYTESHARP-SERVE-LISTENING"


def _announce_reply():
    """Tells the driver, which reads stdout line by line, that out.json is complete: it can take the result now
    instead of waiting for the container's exit. Printed after the task's own output, on the original stdout."""
    out = sys.__stdout__ or sys.stdout
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
        out.write(REPLY_WRITTEN + "\n")
        out.flush()


def main(argv=None):
    started = time.time()
    parser = argparse.ArgumentParser(description="FlyteSharp Python task runner")
    parser.add_argument("--bundle-dir", required=True, help="directory the code bundle is extracted in")
    parser.add_argument("--task", help="package.module:function to call once")
    parser.add_argument("--inputs", help="JSON file with the inputs object")
    parser.add_argument("--outputs", help="JSON file the result is written to")
    parser.add_argument("--describe", nargs="+", metavar="REF", help="describe task references as JSON")
    parser.add_argument("--serve", action="store_true", help="serve JSON-lines requests on stdin")
    parser.add_argument("--serve-pull", metavar="URL", help="serve requests pulled from the driver's controller API at URL (Kubernetes replicas)")
    parser.add_argument("--replica", metavar="ID", help="this replica's id (with --serve-pull)")
    parser.add_argument("--controller-token-file", metavar="FILE", help="the run's controller token (with --serve-pull; a mounted Secret)")
    parser.add_argument("--pull-give-up", type=float, default=300.0, metavar="SECONDS",
                        help="stop serving when the driver stayed unreachable this long (with --serve-pull)")
    parser.add_argument("--serve-socket", metavar="PATH", help="with --serve: serve one connection on a Unix socket listening at PATH instead of stdin")
    parser.add_argument("--serve-fd", type=int, metavar="FD", help=argparse.SUPPRESS)  # a reload's connection, inherited
    parser.add_argument("--bundle", help="code bundle to fetch first: a path or an http(s) URL (containers)")
    parser.add_argument("--digest", help="the bundle's expected sha256 digest (required with --bundle)")
    parser.add_argument("--bundle-auth-file", metavar="FILE",
                        help='JSON {"authorization": "<header value>"} sent to the registry when --bundle is an URL (private stores)')
    parser.add_argument("--fetch-attempts", type=int, default=FETCH_ATTEMPTS, help="attempts per bundle download (first included)")
    parser.add_argument("--fetch-backoff", type=float, default=FETCH_BACKOFF_SECONDS, help="seconds before the first retry, doubled for each further one")
    parser.add_argument("--inputs-env", metavar="NAME", help="read the inputs object from environment variable NAME (Kubernetes)")
    parser.add_argument("--result-stdout", action="store_true", help="print the result object on one marked stdout line (Kubernetes)")
    parser.add_argument("--secret-env", action="append", default=[], metavar="NAME=PATH",
                        help="set environment variable NAME from the (mounted, read-only) file PATH before the task is imported")
    parser.add_argument("--path", action="append", default=[], metavar="REL", help="extra sys.path entry relative to --bundle-dir (uv workspace packages); repeatable")
    args = parser.parse_args(argv)
    for spec in args.secret_env:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            parser.error(f"--secret-env expects NAME=PATH, not {spec!r}")
        with open(path, encoding="utf-8") as f:
            os.environ[name] = f.read()
    bundle_seconds = 0.0
    if args.bundle:
        if not args.digest:
            parser.error("--digest is required with --bundle")
        try:
            headers = _auth_headers(args.bundle_auth_file) if args.bundle_auth_file else None
            fetch_bundle(args.bundle, args.digest, args.bundle_dir, headers, args.fetch_attempts, args.fetch_backoff)
        except Exception as exc:  # anything wrong with the bundle is a refusal, never a half-run task
            if not isinstance(exc, BundleError):
                exc = BundleError(f"code bundle {args.bundle} could not be unpacked: {type(exc).__name__}: {exc}")
            print(f"flytesharp: {exc}", file=sys.stderr)
            refused = json.dumps({"ok": False, "error": _error(exc)})
            if args.outputs:
                _write_outputs(args.outputs, refused)
                _announce_reply()
            if args.result_stdout:
                _print_result(refused)
            return 3
        bundle_seconds = time.time() - started
    try:
        bundle_dir = _setup_path(args.bundle_dir, args.path)
    except ValueError as exc:
        parser.error(str(exc))

    if args.serve_pull:
        if not (args.replica and args.controller_token_file):
            parser.error("--serve-pull needs --replica and --controller-token-file")
        serve(bundle_dir, channel=_PullChannel(args.serve_pull, args.replica, args.controller_token_file, args.pull_give_up))
        return 0
    if args.serve:
        serve(bundle_dir, args.serve_socket, args.serve_fd)
        return 0
    if args.describe:
        print(json.dumps([describe(r, bundle_dir) for r in args.describe]))
        return 0
    if not (args.task and (args.inputs or args.inputs_env) and (args.outputs or args.result_stdout)):
        parser.error("--task, --inputs (or --inputs-env) and --outputs (or --result-stdout) are required for a single call")
    try:
        if args.inputs_env:
            text = os.environ.get(args.inputs_env)
            if text is None:
                raise KeyError(f"environment variable {args.inputs_env} with the task's inputs is not set")
            inputs = json.loads(text)
        elif args.inputs == "-":
            inputs = json.load(sys.stdin)
        else:
            with open(args.inputs, encoding="utf-8") as f:
                inputs = json.load(f)
        task_started = time.time()
        output = call(args.task, inputs)
        timings = json.dumps({"started": started, "bundle": bundle_seconds, "task": time.time() - task_started})
        result = '{"ok": true, "timings": ' + timings + ', "output": ' + output + "}"
        code = 0
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        result = json.dumps({"ok": False, "error": _error(exc)})
        code = 1
    if args.outputs:
        _write_outputs(args.outputs, result)
        _announce_reply()
    if args.result_stdout:
        _print_result(result)
    return code


if __name__ == "__main__":
    sys.exit(main())
