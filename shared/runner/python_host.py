"""Sluice hot worker for Python algorithms: imports the user's module once, then serves tasks.

Usage: python3 -u python_host.py CODE_DIR ENTRY_POINT MARKER

Requests arrive as JSON lines on fd 3 and responses leave as JSON lines on fd 4, so the user's
stdout/stderr stay free for print(): the pool captures them as the task's logs. After each task the
host writes MARKER on stdout and on stderr, which tells the pool where that task's output ends.
HKube's interface: start(args) (or start(args, hkubeApi)); optional init(args), called once before
the first task; async def is supported for both. hkubeApi is HKube's code API (HkubeApi below):
each call goes to the pool as {"t":"call"} on fd 4, a wait as {"t":"wait"}, answered on fd 3.
"""

import asyncio
import importlib
import importlib.util
import inspect
import json
import os
import sys
import traceback


def load_module(code_dir, entry):
    sys.path.insert(0, code_dir)
    if entry.endswith(".py") or "/" in entry:
        path = os.path.join(code_dir, entry)
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(entry)


def describe(exc):
    # The host's own frames come first; the user needs only theirs.
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    lines = [
        entry
        for entry in traceback.format_exception(type(exc), exc, tb)
        if not entry.startswith('  File "<frozen importlib')
    ]
    return {"type": type(exc).__name__, "message": str(exc), "trace": "".join(lines)}


def positional_arity(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return 1
    # start(args, hkubeApi=None), as HKube's own examples write it, takes the API too.
    return sum(1 for p in params if p.kind in kinds)


class Waiter:
    """A started call; get() waits for it and answers {"response": ...} or {"error": ...}."""

    def __init__(self, api, n):
        self._api, self.n, self._result, self._done = api, n, None, False

    def get(self):
        if not self._done:
            self._api._wait([self])
        return self._result


class HkubeApi:
    """HKube's code API (the second argument of start). Calls are numbered in the order the code
    makes them, so a retried task asks for the same children and gets their results again."""

    def __init__(self, requests, responses):
        self._requests, self._responses = requests, responses
        self._task, self._calls, self._waits = 0, 0, 0

    def _begin(self, task):
        self._task, self._calls = task, 0

    def _send(self, message):
        message["task"] = self._task
        self._responses.write(json.dumps(message, allow_nan=False).encode() + b"\n")

    def _start(self, message, blocking):
        self._calls += 1
        self._send({"t": "call", "n": self._calls, **message})  # "t" first: the pool looks for it
        waiter = Waiter(self, self._calls)
        return waiter.get() if blocking else waiter

    def _wait(self, waiters):
        pending = [w for w in waiters if not w._done]
        if not pending:
            return
        self._waits += 1
        w = self._waits
        self._send({"t": "wait", "w": w, "calls": [p.n for p in pending]})
        while True:
            line = self._requests.readline()
            if not line:
                raise SystemExit(0)  # the pool went away
            reply = json.loads(line)
            if reply.get("t") == "reply" and reply.get("w") == w:
                break
        for waiter, result in zip(pending, reply["results"]):
            waiter._result, waiter._done = result, True

    # includeResult and **options (resultAsRaw, ...) are HKube's; results are always included.
    def start_algorithm(self, algorithmName, input=None, includeResult=True, blocking=False, **options):
        """Runs algorithm `algorithmName` as a task with `input` (its args["input"])."""
        return self._start({"op": "algorithm", "name": algorithmName, "input": list(input or [])}, blocking)

    def start_stored_subpipeline(self, name, flowInput=None, includeResult=True, blocking=False, **options):
        """Runs the stored pipeline `name`; the response is its results."""
        return self._start({"op": "stored", "name": name, "flowInput": flowInput}, blocking)

    def start_raw_subpipeline(self, name, nodes=None, flowInput=None, options=None, webhooks=None,
                              includeResult=True, blocking=False, **more):
        """Runs a pipeline descriptor: a whole dict, or HKube's (name, nodes, flowInput, options)."""
        if isinstance(name, dict):
            descriptor = dict(name)
            if flowInput is None and isinstance(nodes, dict):
                flowInput = nodes
        else:
            descriptor = {"name": name, "nodes": nodes or []}
            if options:
                descriptor["options"] = options
            if webhooks:
                descriptor["webhooks"] = webhooks
        return self._start({"op": "raw", "descriptor": descriptor, "flowInput": flowInput}, blocking)

    def wait_all(self, waiters):
        """Waits for every waiter (one round trip) and answers their results in order."""
        self._wait(list(waiters))
        return [w.get() for w in waiters]


class Algorithm:
    def __init__(self, module, api):
        self.api = api
        self.start = getattr(module, "start", None)
        if not callable(self.start):
            raise AttributeError(f"module {module.__name__!r} has no start(args) function")
        init = getattr(module, "init", None)
        self.init = init if callable(init) else None
        self.loop = asyncio.new_event_loop()
        self.init_ok = False

    def call(self, fn, args):
        # HKube passes hkubeApi as a second argument to functions that take one.
        result = fn(args, self.api) if positional_arity(fn) >= 2 else fn(args)
        if inspect.isawaitable(result):
            result = self.loop.run_until_complete(_await(result))
        return result

    def run(self, args):
        if not self.init_ok:
            if self.init is not None:
                self.call(self.init, args)
            self.init_ok = True
        return self.call(self.start, args)


async def _await(awaitable):
    return await awaitable


def end_of_task_output(marker):
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        try:
            stream.flush()
        except Exception:  # the user replaced or closed it: what it held is theirs to lose
            pass
        try:
            os.write(fd, marker)
        except OSError:  # fd closed by the user: the pool stops waiting for the marker after a while
            pass


def open_channels():
    """fds 3 and 4, or, in a container (the pool's fds cannot cross `docker run`), the two FIFOs
    of the directory SLUICE_HOST_PIPES names, which container_bridge.mjs relays to them."""
    pipes = os.environ.pop("SLUICE_HOST_PIPES", None)
    if not pipes:
        return os.fdopen(3, "rb"), os.fdopen(4, "wb", buffering=0)
    requests = open(os.path.join(pipes, "requests"), "rb")
    return requests, open(os.path.join(pipes, "responses"), "wb", buffering=0)


def main():
    code_dir, entry, marker = sys.argv[1], sys.argv[2], sys.argv[3].encode() + b"\n"
    # User code (or a library parsing flags at import) should see its own program, not ours.
    sys.argv = [os.path.join(code_dir, entry)]
    requests, responses = open_channels()
    algorithm, load_error = None, None
    api = HkubeApi(requests, responses)
    try:
        algorithm = Algorithm(load_module(code_dir, entry), api)
    except Exception as exc:  # reported with every task; the pool then replaces the process
        load_error = describe(exc)

    # readline, not iteration: HkubeApi reads its replies from the same pipe while a task runs.
    for line in iter(requests.readline, b""):
        request = json.loads(line)
        if request.get("t") == "reply":
            continue  # the answer to a wait of a task that is over
        task_id = request["id"]
        api._begin(task_id)
        args = {"input": request["input"], "info": request["info"]}
        try:
            if load_error is not None:
                response = {"id": task_id, "ok": False, "error": load_error, "fatal": True}
            else:
                result = algorithm.run(args)
                try:
                    body = json.dumps(result, allow_nan=False)
                except (TypeError, ValueError) as exc:
                    raise TypeError(f"the result of start() is not JSON-serializable: {exc}") from None
                response = None
        except Exception as exc:
            # A failed init() leaves the module half set up: the pool retires this process.
            fatal = algorithm is not None and not algorithm.init_ok
            response = {"id": task_id, "ok": False, "error": describe(exc), "fatal": fatal}
        end_of_task_output(marker)
        if response is None:
            responses.write(b'{"id":%d,"ok":true,"result":%s}\n' % (task_id, body.encode()))
        else:
            responses.write(json.dumps(response).encode() + b"\n")


if __name__ == "__main__":
    main()
