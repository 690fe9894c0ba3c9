"""A progress bar without dependencies: an IPython display in a notebook, else a line on stderr."""

import sys

WIDTH = 30


def _ipython_display():
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    # A kernel (Jupyter) renders displays; a terminal IPython prints them: use stderr there.
    if shell is None or not hasattr(shell, "kernel"):
        return None
    return display


def render(job_id, view):
    """One line: bar, percent, status, task counts."""
    pct = float(view.get("progress") or 0)
    filled = int(round(WIDTH * pct / 100))
    tasks = view.get("tasks") or {}
    done = tasks.get("succeeded", 0) + tasks.get("failed", 0) + tasks.get("stopped", 0)
    line = "%s [%s%s] %3.0f%% %s, %d/%d tasks" % (
        job_id,
        "#" * filled,
        "-" * (WIDTH - filled),
        pct,
        view.get("status", "?"),
        done,
        tasks.get("created", 0),
    )
    if tasks.get("failed"):
        line += ", %d failed" % tasks["failed"]
    return line


class Progress:
    def __init__(self, job_id, stream=None):
        self.job_id = job_id
        self.stream = stream or sys.stderr
        self.last = None
        self.handle = None
        display = _ipython_display()
        if display is not None:
            self.handle = display(render(job_id, {"status": "pending"}), display_id=True)

    def update(self, view):
        line = render(self.job_id, view)
        if line == self.last:
            return
        self.last = line
        if self.handle is not None:
            self.handle.update(line)
            return
        tty = getattr(self.stream, "isatty", lambda: False)()
        # On a terminal the line is redrawn in place; in a log, each change is a line.
        self.stream.write(("\r" + line + "\x1b[K") if tty else line + "\n")
        self.stream.flush()

    def close(self):
        if self.handle is None and self.last is not None and getattr(self.stream, "isatty", lambda: False)():
            self.stream.write("\n")
            self.stream.flush()
