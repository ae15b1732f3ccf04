"""Headless Chromium driven over the DevTools protocol, for the live tests' browser fixtures.

    async with Browser(chromium) as browser:
        page = await browser.open("http://127.0.0.1:PORT/chat.html")
        await browser.evaluate(page, "document.title")
        await browser.call("Page.reload", page)

The browser gets a throwaway profile and a debugging port the kernel picks (read from DevToolsActivePort);
it is stopped, and its profile removed, when the block ends.
"""
import asyncio, json, os, shutil, subprocess, tempfile, time
from websockets.asyncio.client import connect


class Browser:
    def __init__(self, chromium, *flags):
        self.chromium = chromium
        self.flags = list(flags)

    async def __aenter__(self):
        self.profile = tempfile.mkdtemp(prefix="httpkit-cdp-")
        self.process = subprocess.Popen(
            [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server", "--disable-dev-shm-usage",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0", *self.flags, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 20
        while not os.path.exists(port_file) and time.time() < deadline:
            await asyncio.sleep(0.05)
        port, path = open(port_file).read().split()[:2]
        self.socket = await connect(f"ws://127.0.0.1:{port}{path}", max_size=None)
        self.next_id = 0
        return self

    async def __aexit__(self, *exc):
        await self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def call(self, method, session=None, **params):
        """One DevTools command; its result (events in between are skipped)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(await self.socket.recv())
            if reply.get("id") == self.next_id:
                return reply.get("result", {})

    async def open(self, url):
        """A new tab on `url`; its session id."""
        target = await self.call("Target.createTarget", url=url)
        attached = await self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        return attached["sessionId"]

    async def evaluate(self, session, expression):
        result = await self.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")
