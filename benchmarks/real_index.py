"""A real WhatsApp Web index beside the replica's generated one: does the document itself
load differently?

The replica generates its index (`world/replica/content.py`): 600 KB of inline CSS and
JSON data, a bootstrap, its bundles. A real index (an `@wppconnect/wa-version` file, the
same ones whatsapp-web.js's remote web-version cache fetches) is 640 KB of inline JSON
data, 34 `data:` bootloader scripts and 9 bundles. This loads each in real Chromium, a
fresh context (cold cache) each time, in alternating order, with every request outside
the document (bundles, stylesheets, icons) answered 404 by the local server at once, so
what is timed is the document: its parse, its inline scripts, its `load` event. It prints
each one's median times from the Navigation Timing entry and the ratio real / generated.

    npm pack @wppconnect/wa-version@1.5.4908
    tar xzf wppconnect-wa-version-1.5.4908.tgz package/html/2.3000.1048032155-alpha.html
    PYTHONPATH=. .venv/bin/python benchmarks/real_index.py \\
        package/html/2.3000.1048032155-alpha.html [--loads 30]
"""

import argparse
import asyncio
import statistics
from pathlib import Path

from aiohttp import web
from playwright.async_api import Browser, async_playwright

from qrbench.analysis import stats
from qrbench.browsers.local import launch_args
from qrbench.config.models import Browser as BrowserConfig
from qrbench.config.models import Replica
from qrbench.errors import QrbenchError
from qrbench.world.loopback import LoopbackServer
from qrbench.world.replica import content

# Where the real index loads its bundles, stylesheet and icons from: sent to the local
# server instead, which has none of them.
REAL_STATIC_HOST = "https://static.whatsapp.net"
LOCAL_STATIC_PATH = "/static"
# The replica's bundle count default is 4; the real index has 9: both get 9 script tags.
BUNDLES = 9
TIMING = """() => {
  const entry = performance.getEntriesByType('navigation')[0];
  return [entry.responseEnd, entry.domContentLoadedEventEnd, entry.loadEventStart];
}"""
METRICS = ("response end", "DOMContentLoaded", "load")


def documents(real_html: Path) -> dict[str, bytes]:
    real = real_html.read_bytes().replace(REAL_STATIC_HOST.encode(), LOCAL_STATIC_PATH.encode())
    version = real_html.name.split("-")[0]
    generated = content.build_index(
        version, Replica().index_kb, BUNDLES, static_base=LOCAL_STATIC_PATH
    )
    return {"real": real, "generated": generated}


def _apps(pages: dict[str, bytes]) -> list[web.Application]:
    """The pages by name; anything else 404 at once."""

    async def page(request: web.Request) -> web.Response:
        body = pages.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{name}", page)
    return [app]


async def load(browser: Browser, url: str) -> list[float]:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(url, wait_until="load")
        timing: list[float] = await page.evaluate(TIMING)
        return timing
    finally:
        await context.close()


async def measure(real_html: Path, loads: int) -> dict[str, list[list[float]]]:
    pages = documents(real_html)
    for name, body in pages.items():
        print(f"{name}: {len(body):,} bytes")
    config = BrowserConfig()
    times: dict[str, list[list[float]]] = {name: [] for name in pages}
    # In its own thread, as the replica serves: this loop only drives the browser.
    server = LoopbackServer("real-index pages", QrbenchError, shutdown_timeout_s=1.0)
    try:
        (address,) = server.bind(1)
        server.serve(lambda: _apps(pages))
        base = f"http://{address}"
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=config.executable_path, args=launch_args(config, [])
            )
            try:
                names = list(pages)
                await load(browser, f"{base}/{names[0]}")  # warm Chromium itself
                for number in range(loads):
                    # Alternating which goes first: drift falls on both alike.
                    for name in names if number % 2 == 0 else names[::-1]:
                        times[name].append(await load(browser, f"{base}/{name}"))
            finally:
                await browser.close()
    finally:
        server.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("real_html", type=Path, help="an index from @wppconnect/wa-version")
    parser.add_argument("--loads", type=int, default=30)
    args = parser.parse_args()
    times = asyncio.run(measure(args.real_html, args.loads))
    print(f"{args.loads} cold loads each, ms from navigation start (median):")
    print("| metric | real | generated | real / generated | Mann-Whitney p |")
    print("|---|---|---|---|---|")
    for index, metric in enumerate(METRICS):
        real = [row[index] for row in times["real"]]
        generated = [row[index] for row in times["generated"]]
        ratio = stats.ratio_of_medians(real, generated)
        ratio_text = (
            "-" if ratio is None else f"{ratio.value:.2f}x ({ratio.ci_low:.2f}-{ratio.ci_high:.2f})"
        )
        p_value = stats.mann_whitney(real, generated).p_value
        print(
            f"| {metric} | {statistics.median(real):.1f} | {statistics.median(generated):.1f} "
            f"| {ratio_text} | {p_value:.2g} |"
        )


if __name__ == "__main__":
    main()
