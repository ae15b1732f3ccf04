"""Two headless-Chromium pages on chat.html talk through the websocket stage.

    python3 chat_two_pages.py CHROMIUM BASE_URL

Starts Chromium with the DevTools protocol (cdp.py), opens two tabs on chat.html,
has each send a line, and waits until each tab shows the other's line. Prints one JSON object:
{"a": [lines in tab A], "b": [lines in tab B], "echo": "<echo status>", "extensions": "<status>"}.
Exit status 0 when both tabs saw each other's message within 20 s.
"""
import asyncio, json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser


async def main(chromium, base):
    async with Browser(chromium) as browser:
        sessions = {name: await browser.open(f"{base}/chat.html") for name in ("a", "b")}

        async def evaluate(name, expression):
            return await browser.evaluate(sessions[name], expression)

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


sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
