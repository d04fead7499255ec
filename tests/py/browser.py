#!/usr/bin/python3
"""Opens an HTML file in headless Chromium and reports what a reader sees.

Drives Chromium through the DevTools protocol on a pipe
(--remote-debugging-pipe: the browser reads commands on fd 3 and writes
replies on fd 4, each a JSON text ending in NUL), so no port is opened and
no package beyond Debian's chromium is needed. Records every request the
page makes, evaluates a JavaScript expression in the page (its JSON value
is printed), and saves a full-page screenshot.

usage: browser.py PAGE.html SCREENSHOT.png EXPRESSION [WIDTH]
prints one JSON object: {"requests": [urls], "value": ..., "width": W,
"height": H}; exits 1 with a message when the browser fails.
"""
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, exe):
        self.profile = tempfile.mkdtemp(prefix="psflow-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def fds():  # the protocol's fds in the browser: 3 in, 4 out
            # through copies above both: a pipe may itself be fd 3 or 4, and
            # dup2 onto itself would keep its close-on-exec flag
            a = os.dup2(to_browser_r, 20)
            b = os.dup2(from_browser_w, 21)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.close(a)
            os.close(b)

        args = [exe, "--headless", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-pipe", "--user-data-dir=" + self.profile,
                "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-extensions",
                "--hide-scrollbars", "--mute-audio", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=fds, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_browser, json.dumps(msg).encode() + b"\0")
        while True:
            m = self.receive(timeout)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def receive(self, timeout):
        deadline = time.time() + timeout
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise RuntimeError("no answer from chromium in %gs" % timeout)
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the protocol pipe (did it start?)")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def wait_event(self, method, timeout=60):
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self.receive(timeout)
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    page, shot, expression = sys.argv[1], sys.argv[2], sys.argv[3]
    width = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        sys.exit("browser.py: no chromium on PATH")
    b = Browser(exe)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        b.send("Network.enable", session=s)
        b.send("Page.enable", session=s)
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False},
               session=s)
        url = "file://" + os.path.abspath(page)
        nav = b.send("Page.navigate", {"url": url}, session=s)
        if nav.get("errorText"):
            raise RuntimeError("cannot open %s: %s" % (url, nav["errorText"]))
        b.wait_event("Page.loadEventFired")
        value = b.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                       session=s)
        if "exceptionDetails" in value:
            raise RuntimeError("the expression failed: %s" % value["exceptionDetails"])
        metrics = b.send("Page.getLayoutMetrics", session=s)
        height = int(metrics["cssContentSize"]["height"]) + 1
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
               session=s)
        png = b.send("Page.captureScreenshot", {"format": "png"}, session=s)["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))
        # every request the page made, the page itself included
        requests = [m["params"]["request"]["url"] for m in b.events
                    if m.get("method") == "Network.requestWillBeSent"]
        print(json.dumps({"page": url, "requests": requests,
                          "value": value["result"].get("value"),
                          "width": width, "height": height}))
    except (RuntimeError, KeyError, OSError) as e:
        sys.exit("browser.py: %s" % e)
    finally:
        b.close()


if __name__ == "__main__":
    main()
