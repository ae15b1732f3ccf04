"""Headless Chromium revalidates and seeks: the caching lesson's two browser behaviours, for a test.

    python3 browser_cache.py CHROMIUM BASE_URL

Opens BASE_URL/ and reloads it (a reload revalidates the page with If-None-Match: the server's log
shows a 304), then opens BASE_URL/media.html, whose <video> seeks near the end of a 20-second file (the
browser asks for those bytes with Range: the log shows 206). Prints {"reloaded": bool, "seeked": "yes"|…}.
"""
import asyncio, json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser


async def main(chromium, base):
    async with Browser(chromium, "--autoplay-policy=no-user-gesture-required") as browser:
        page = await browser.open(base + "/")
        deadline = time.time() + 20
        while time.time() < deadline and await browser.evaluate(page, "document.readyState") != "complete":
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        await browser.evaluate(page, "window.beforeReload = true")
        await browser.call("Page.reload", page)
        reloaded = False
        while time.time() < deadline and not reloaded:
            await asyncio.sleep(0.1)
            reloaded = (await browser.evaluate(page, "window.beforeReload === undefined && document.readyState === 'complete'")) is True

        media = await browser.open(base + "/media.html")
        seeked = None
        while time.time() < deadline:
            seeked = await browser.evaluate(media, "document.body.dataset.seeked")
            if seeked:
                break
            await asyncio.sleep(0.1)
        print(json.dumps({"reloaded": reloaded, "seeked": seeked,
                          "status": await browser.evaluate(media, "document.getElementById('media-status').textContent")}))
        return 0 if reloaded and seeked == "yes" else 1


sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
