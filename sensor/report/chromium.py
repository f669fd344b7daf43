"""Headless Chromium over the DevTools protocol, through ``--remote-debugging-pipe``: no websocket, no port.

Used by the report's browser tests and its benchmark to open a report as a person would (click, type,
look at the screen) and to record every network request the page makes. Messages are JSON, each ended
by a NUL byte: Chromium reads commands on its fd 3 and writes answers and events on its fd 4.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--mute-audio", "--hide-scrollbars")


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, or did not answer in time."""


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def _above_4(fd: int) -> int:
    """The same pipe end on a descriptor above 4 (the original is closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class Chromium:
    """One browser process; ``open`` gives a page (a tab) in it. Use as a context manager."""

    def __init__(self, binary: str | None = None, width: int = 1400, height: int = 1000) -> None:
        binary = binary or find_chromium()
        if binary is None:
            raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
        self.width, self.height = width, height
        self._profile = tempfile.TemporaryDirectory(prefix="otsensor-chromium-")
        self._log = open(Path(self._profile.name) / "stderr.log", "wb")  # closed in close()
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        to_child_r, from_child_w = (_above_4(fd) for fd in (to_child_r, from_child_w))  # `3<&4 4>&3` would clash
        args = " ".join([binary, *FLAGS, f"--window-size={width},{height}", f"--user-data-dir={self._profile.name}",
                         "--remote-debugging-pipe", "about:blank"])
        self.process = subprocess.Popen(  # bash (dash takes one-digit fds only) puts the pipe ends on fds 3 and 4
            ["bash", "-c", f"exec {args} 3<&{to_child_r} 4>&{from_child_w}"], pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (BrowserError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30) -> dict[str, Any]:
        """Send one command and wait for its answer; events read meanwhile are kept in ``events``."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_child, json.dumps(message).encode() + b"\0")
        except BrokenPipeError as error:
            raise BrowserError(f"chromium exited: {self.stderr()[-2000:]}") from error
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def stderr(self) -> str:
        """What Chromium wrote on its standard error so far (why it failed to start, say)."""
        self._log.flush()
        return (Path(self._profile.name) / "stderr.log").read_text(errors="replace")

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise BrowserError("no answer from chromium in time")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium closed its end of the pipe: {self.stderr()[-2000:]}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def open(self, url: str, ready: str = "document.readyState === 'complete'", timeout: float = 30) -> Page:
        """A new tab at ``url``, network recorded from before the first request, once ``ready`` is true."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                         "deviceScaleFactor": 1, "mobile": False}, session)
        page.navigate(url, ready, timeout)
        return page


class Page:
    """One tab: evaluate JavaScript, click, type, take a screenshot, list the requests it made."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        return self.browser.send(method, params, self.session, timeout)

    def navigate(self, url: str, ready: str, timeout: float = 30) -> float:
        """Load ``url`` and wait until ``ready`` is true; the seconds it took."""
        start = time.monotonic()
        self.send("Page.navigate", {"url": url})
        self.wait_for(ready, timeout)
        return time.monotonic() - start

    def evaluate(self, expression: str, timeout: float = 30) -> Any:
        """The value of a JavaScript expression (promises are awaited)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, timeout)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def wait_for(self, condition: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"!!({condition})"):
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {condition}")
            time.sleep(0.05)

    def click(self, x: float, y: float) -> None:
        """A left click at viewport coordinates, as a mouse makes it (move, press, release)."""
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def type(self, text: str) -> None:
        """Text typed into the focused element (fires ``input`` events as a keyboard would)."""
        self.send("Input.insertText", {"text": text})

    def screenshot(self, path: str | Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        Path(path).write_bytes(base64.b64decode(self.send("Page.captureScreenshot", params)["data"]))
        return Path(path)

    def requests(self) -> list[str]:
        """The URL of every request this tab sent (``Network.requestWillBeSent``)."""
        return [e["params"]["request"]["url"] for e in self.browser.events
                if e.get("sessionId") == self.session and e["method"] == "Network.requestWillBeSent"]
