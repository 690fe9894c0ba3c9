"""Sluice's REST API from Python: submit, wait (with a progress bar), fetch results.

Standard library only. The endpoint is an argument or $SLUICE_ENDPOINT (default
http://127.0.0.1:3000); the token an argument, $SLUICE_API_TOKEN, or $SLUICE_HOME/api-token
(the home's token is sent only to an endpoint on this machine, as the `sluice` CLI does).
"""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

from .progress import Progress

FINAL = ("completed", "failed", "stopped")
LOOPBACK = ("localhost", "::1")


class SluiceError(Exception):
    """An error answer from the API: HTTP status, Sluice's error type, message, field."""

    def __init__(self, message, status=None, type=None, field=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.field = field


class JobFailed(SluiceError):
    """A job ended failed or stopped. `view` is its final status view (GET /exec/status)."""

    def __init__(self, job_id, view):
        self.job_id = job_id
        self.view = view
        self.job_status = view.get("status")
        self.reason = _failure_reason(view)
        super().__init__("job %s %s: %s" % (job_id, self.job_status, self.reason), type="JOB_" + str(self.job_status).upper())


def _failure_reason(view):
    reasons = []
    if view.get("reason"):
        reasons.append(str(view["reason"]))
    for node in view.get("nodes") or []:
        why = node.get("reason")
        if why and node.get("status") in ("failed", "stopped") and not any(why in r for r in reasons):
            reasons.append("%s: %s" % (node.get("nodeName"), node["reason"]))
    return "; ".join(reasons) or "no reason given"


class _AnswerRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects, dropping our credentials when the host changes.

    The AWS API answers what is too large for a Lambda response with a 303 to a presigned S3 URL;
    that URL carries its own signature, and S3 refuses a request with a second authorization.
    """

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            for name in ("Authorization", "X-api-key"):
                new.headers.pop(name, None)
                new.unredirected_hdrs.pop(name, None)
        return new


_opener = urllib.request.build_opener(_AnswerRedirects)


def _is_loopback(host):
    return host in LOOPBACK or (host or "").startswith("127.")


def _home_token():
    home = os.environ.get("SLUICE_HOME") or ".sluice"
    try:
        with open(os.path.join(home, "api-token"), encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


class Client:
    """A Sluice engine's API.

    >>> c = Client()                      # $SLUICE_ENDPOINT or http://127.0.0.1:3000
    >>> data = c.run_stored("numbers", flow_input={"n": 5})
    """

    def __init__(self, endpoint=None, token=None, timeout=30.0, progress=True):
        endpoint = (endpoint or os.environ.get("SLUICE_ENDPOINT") or "http://127.0.0.1:3000").rstrip("/")
        if not endpoint.endswith("/api/v1"):
            endpoint += "/api/v1"
        self.api = endpoint
        host = urllib.parse.urlsplit(endpoint).hostname
        if token is None:
            token = os.environ.get("SLUICE_API_TOKEN") or (_home_token() if _is_loopback(host) else None)
        self.token = token
        self.timeout = timeout
        self.progress = progress
        # How the last wait() followed its job: "events" (the live stream) or "polling".
        self.waited_by = None
        self._events_read = 0  # job events the last waits read from the stream (for tests)

    # -- requests -------------------------------------------------------------------------------

    def _headers(self, extra=None):
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        h.update(extra or {})
        return h

    def _open(self, method, path, body=None, headers=None, timeout=None):
        data = None
        extra = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            extra["Content-Type"] = "application/json"
        req = urllib.request.Request(self.api + path, data=data, method=method, headers=self._headers(extra))
        try:
            return _opener.open(req, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as e:
            raise _api_error(e) from None
        except urllib.error.URLError as e:
            raise SluiceError("cannot reach %s: %s" % (self.api, e.reason)) from None

    def request(self, method, path, body=None):
        """One API call; the parsed JSON answer. Errors raise SluiceError with the API's message."""
        with self._open(method, path, body) as res:
            text = res.read().decode("utf-8")
        return json.loads(text) if text else None

    # -- jobs -----------------------------------------------------------------------------------

    def submit_raw(self, pipeline, flow_input=None):
        """Starts a pipeline descriptor (a dict, or a JSON string); returns the jobId."""
        if isinstance(pipeline, str):
            pipeline = json.loads(pipeline)
        if flow_input is not None:
            pipeline = dict(pipeline, flowInput=flow_input)
        return self.request("POST", "/exec/raw", pipeline)["jobId"]

    def submit_stored(self, name, flow_input=None, options=None, priority=None, tags=None):
        """Starts a stored pipeline by name; returns the jobId."""
        body = {"name": name}
        for key, value in (("flowInput", flow_input), ("options", options), ("priority", priority), ("tags", tags)):
            if value is not None:
                body[key] = value
        return self.request("POST", "/exec/stored", body)["jobId"]

    def status(self, job_id):
        """The job's status view: status, progress (percent), task counts, per-node counts."""
        return self.request("GET", "/exec/status/" + urllib.parse.quote(job_id, safe=""))

    def results(self, job_id):
        """The job's results as Python objects (None until the job ends)."""
        return self.request("GET", "/exec/results/" + urllib.parse.quote(job_id, safe=""))["data"]

    def stop(self, job_id, reason=None):
        body = {"jobId": job_id}
        if reason is not None:
            body["reason"] = reason
        return self.request("POST", "/exec/stop", body)

    def wait(self, job_id, timeout=None, progress=None):
        """Waits for the job to end, showing its progress; returns the final status view.

        Follows the live event stream (GET /events), or polls the status with backoff when the
        stream is not available. Raises JobFailed if the job failed or was stopped, TimeoutError
        after `timeout` seconds (the job keeps running).
        """
        show = self.progress if progress is None else progress
        self.waited_by = "events"
        bar = Progress(job_id) if show else None
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            view = self._wait_events(job_id, deadline, bar)
            if view is None:
                self.waited_by = "polling"
                view = self._wait_polling(job_id, deadline, bar)
        finally:
            if bar:
                bar.close()
        if view["status"] != "completed":
            raise JobFailed(job_id, view)
        return view

    def run_raw(self, pipeline, flow_input=None, timeout=None, progress=None):
        """submit_raw, wait, results."""
        job_id = self.submit_raw(pipeline, flow_input)
        self.wait(job_id, timeout, progress)
        return self.results(job_id)

    def run_stored(self, name, flow_input=None, options=None, priority=None, timeout=None, progress=None):
        """submit_stored, wait, results."""
        job_id = self.submit_stored(name, flow_input, options, priority)
        self.wait(job_id, timeout, progress)
        return self.results(job_id)

    # -- waiting --------------------------------------------------------------------------------

    def _wait_events(self, job_id, deadline, bar):
        """The final view via the event stream; None if the stream cannot be used."""
        query = "?" + urllib.parse.urlencode({"jobId": job_id, "types": "job"})
        last_id = None
        failures = 0
        while True:
            _check_deadline(deadline, job_id)
            headers = {"Accept": "text/event-stream"}
            if last_id:
                headers["Last-Event-ID"] = last_id
            try:
                # The server sends a keep-alive every 15 s; a longer silence is a lost stream.
                wait_s = 40.0 if deadline is None else max(1.0, min(40.0, deadline - time.monotonic()))
                res = self._open("GET", "/events" + query, headers=headers, timeout=wait_s)
            except SluiceError as e:
                if e.status in (401, 403):
                    raise
                return None
            try:
                with res:
                    # Opened before this look, so no event after it is missed.
                    view = self.status(job_id)
                    if bar:
                        bar.update(view)
                    if view["status"] in FINAL:
                        return view
                    for event, data, event_id in _read_sse(res):
                        _check_deadline(deadline, job_id)
                        failures = 0
                        if event_id:
                            last_id = event_id
                        if event == "reset":
                            last_id = None
                            view = self.status(job_id)
                        elif event == "job":
                            view = json.loads(data)
                            if view.get("jobId") != job_id:
                                continue
                            self._events_read += 1
                        else:
                            continue
                        if bar:
                            bar.update(view)
                        if view["status"] in FINAL:
                            return view
            except (OSError, ValueError):
                # A silent or broken stream (a socket timeout is an OSError too): the deadline
                # first, then reconnect with Last-Event-ID, or give up on the stream.
                _check_deadline(deadline, job_id)
                failures += 1
                if failures > 3:
                    return None
                time.sleep(0.5 * failures)

    def _wait_polling(self, job_id, deadline, bar):
        delay = 0.2
        while True:
            view = self.status(job_id)
            if bar:
                bar.update(view)
            if view["status"] in FINAL:
                return view
            _check_deadline(deadline, job_id)
            pause = delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic()))
            time.sleep(pause)
            delay = min(delay * 1.5, 3.0)


def _check_deadline(deadline, job_id):
    if deadline is not None and time.monotonic() >= deadline:
        raise TimeoutError("job %s did not end in time (it keeps running)" % job_id)


def _read_sse(res):
    """(event, data, id) per server-sent event of an open response; OSError when it ends."""
    event, data, event_id = "message", [], None
    while True:
        raw = res.readline()
        if not raw:
            raise OSError("the event stream ended")
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if data:
                yield event, "\n".join(data), event_id
            event, data, event_id = "message", [], None
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value


def _api_error(e):
    text = ""
    try:
        text = e.read().decode("utf-8", "replace")
        err = json.loads(text).get("error") or {}
        if isinstance(err, dict):
            return SluiceError(err.get("message") or str(e), e.code, err.get("type"), err.get("field"))
    except (ValueError, AttributeError, OSError):
        pass
    return SluiceError("HTTP %d: %s" % (e.code, text.strip()[:200] or e.reason), e.code)
