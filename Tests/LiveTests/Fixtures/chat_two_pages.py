"""Two headless-Chromium pages on chat.html talk through the websocket stage.

    python3 chat_two_pages.py CHROMIUM BASE_URL

Starts Chromium with the DevTools protocol on a pipe-free debugging port, opens two tabs on chat.html,
has each send a line, and waits until each tab shows the other's line. Prints one JSON object:
{"a": [lines in tab A], "b": [lines in tab B], "echo": "<echo status>", "extensions": "<status>"}.
Exit status 0 when both tabs saw each other's message within 20 s.
"""
import asyncio, json, os, shutil, subprocess, sys, tempfile, time
from websockets.asyncio.client import connect


async def main(chromium, base):
    profile = tempfile.mkdtemp(prefix="httpkit-chat-")
    browser = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server",
                                "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                                "--remote-debugging-port=0", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 20
        while not os.path.exists(port_file) and time.time() < deadline:
            await asyncio.sleep(0.05)
        port, path = open(port_file).read().split()[:2]
        async with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as cdp:
            next_id = 0

            async def call(method, session=None, **params):
                nonlocal next_id
                next_id += 1
                message = {"id": next_id, "method": method, "params": params}
                if session:
                    message["sessionId"] = session
                await cdp.send(json.dumps(message))
                while True:
                    reply = json.loads(await cdp.recv())
                    if reply.get("id") == next_id:
                        return reply.get("result", {})

            sessions = {}
            for name in ("a", "b"):
                target = await call("Target.createTarget", url=f"{base}/chat.html")
                attached = await call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
                sessions[name] = attached["sessionId"]

            async def evaluate(name, expression):
                result = await call("Runtime.evaluate", sessions[name], expression=expression, returnByValue=True)
                return result.get("result", {}).get("value")

            lines = "Array.from(document.querySelectorAll('#messages li')).map(li => li.textContent)"
            # Both tabs connected (each sees itself announced), then each says something.
            deadline = time.time() + 20
            while time.time() < deadline:
                if await evaluate("a", "document.body.dataset.chat") == "open" and await evaluate("b", "document.body.dataset.chat") == "open":
                    break
                await asyncio.sleep(0.1)
            for name in ("a", "b"):
                await evaluate(name, f"chat.send('hello from tab {name}')")
            result = {}
            while time.time() < deadline:
                result = {name: await evaluate(name, lines) for name in ("a", "b")}
                if any("hello from tab b" in l for l in result["a"]) and any("hello from tab a" in l for l in result["b"]):
                    break
                await asyncio.sleep(0.1)
            result["echo"] = await evaluate("a", "document.getElementById('echo-status').textContent")
            result["extensions"] = await evaluate("a", "document.getElementById('status').textContent")
            print(json.dumps(result))
            ok = any("hello from tab b" in l for l in result.get("a", [])) and any("hello from tab a" in l for l in result.get("b", []))
            return 0 if ok else 1
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
