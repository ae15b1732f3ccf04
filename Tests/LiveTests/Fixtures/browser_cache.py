"""Headless Chromium revalidates and seeks: the caching lesson's two browser behaviours, for a test.

    python3 browser_cache.py CHROMIUM BASE_URL

Opens BASE_URL/ and reloads it (a reload revalidates the page with If-None-Match: the server's log
shows a 304), then opens BASE_URL/media.html, whose <video> seeks near the end of a 20-second file (the
browser asks for those bytes with Range: the log shows 206). Prints {"reloaded": bool, "seeked": "yes"|…}.
"""
import asyncio, json, os, shutil, subprocess, sys, tempfile, time
from websockets.asyncio.client import connect


async def main(chromium, base):
    profile = tempfile.mkdtemp(prefix="httpkit-cache-")
    browser = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server",
                                "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
                                f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
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

            async def evaluate(session, expression):
                result = await call("Runtime.evaluate", session, expression=expression, returnByValue=True)
                return result.get("result", {}).get("value")

            async def open_page(url):
                target = await call("Target.createTarget", url=url)
                attached = await call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
                return attached["sessionId"]

            page = await open_page(base + "/")
            deadline = time.time() + 20
            while time.time() < deadline and await evaluate(page, "document.readyState") != "complete":
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)
            await evaluate(page, "window.beforeReload = true")
            await call("Page.reload", page)
            reloaded = False
            while time.time() < deadline and not reloaded:
                await asyncio.sleep(0.1)
                reloaded = (await evaluate(page, "window.beforeReload === undefined && document.readyState === 'complete'")) is True

            media = await open_page(base + "/media.html")
            seeked = None
            while time.time() < deadline:
                seeked = await evaluate(media, "document.body.dataset.seeked")
                if seeked:
                    break
                await asyncio.sleep(0.1)
            print(json.dumps({"reloaded": reloaded, "seeked": seeked,
                              "status": await evaluate(media, "document.getElementById('media-status').textContent")}))
            return 0 if reloaded and seeked == "yes" else 1
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
