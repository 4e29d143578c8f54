"""The chart page in a real browser (Debian's chromium via Playwright), on the real broker.

A past day (``DATE``) goes through the whole pipeline with 1% late trades, so its
reconciliation is a breach with drifted candles; then the speed layer runs with ``--live``,
``candles serve`` starts, and trades for *now* flow in from a background thread. The page
must draw the merged series (batch bars of the reconciled day, then the speed tail),
receive live updates, switch interval and mark a breached candle. It also writes the
README's screenshot, ``docs/img/chart.png``.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow.parquet as pq
import pytest

from candle_core.trade import Trade
from kafka_ops.process import pick_free_ports
from tests.pipeline import Pipeline
from tests.reconciliation.runs import DATE, make_pipeline, run_pipeline
from tests.speed_layer.trades import as_records, clean_stream

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "chart.png"
TRADES = 4_000


def breach_day(pipeline: Pipeline, root: Path) -> list[Trade]:
    """DATE through speed, archive, batch and reconcile, with 1% late trades."""
    trades = clean_stream(TRADES, seed=12)
    rnd = random.Random(5)
    late = set(rnd.sample(range(len(trades) * 4 // 5), len(trades) // 100))
    lateness_us = pipeline.settings.allowed_lateness_us
    run_pipeline(pipeline, as_records(
        trades, [lateness_us + 4_000_000 if i in late else 0 for i in range(len(trades))]))
    done = pipeline.run("reconcile", "--date", DATE, "--json")
    assert done.returncode == 0 and '"verdict": "breach"' in done.stdout, done.stderr
    return trades


def breached_symbol(root: Path) -> str:
    rows = pq.read_table(root / "reports/reconcile" / f"date={DATE}" / "drifted.parquet")
    counts: dict[str, int] = {}
    for row in rows.to_pylist():
        if row["interval"] == "1s" and row["drift"] > 0.005:
            counts[row["symbol"]] = counts.get(row["symbol"], 0) + 1
    assert counts, "the late trades produced no breached 1 s candle"
    return max(counts, key=lambda symbol: counts[symbol])


def produce_now(pipeline: Pipeline, last: dict[str, Trade], stop: threading.Event) -> None:
    """Trades stamped with the wall clock, ~40 a second, until ``stop``."""
    rnd = random.Random(3)
    prices = {s: t.price for s, t in last.items()}
    trade_id = 10_000_000
    while not stop.is_set():
        records = []
        for symbol in prices:
            trade_id += 1
            prices[symbol] = max(1, prices[symbol] + rnd.randint(-1_000, 1_000))
            now_us = time.time_ns() // 1000
            trade = Trade(symbol, trade_id, now_us, prices[symbol], rnd.randint(1, 10**10),
                          "test", "buy")
            records.append((symbol.encode(), orjson.dumps(trade.to_wire()), now_us // 1000))
        pipeline.produce(records)
        stop.wait(0.2)


@pytest.fixture
def served(kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not CHROMIUM.exists():
        hint = "needs Debian's chromium at /usr/bin/chromium: apt-get install chromium"
        if os.environ.get("CI") or os.environ.get("CANDLES_REQUIRE_TOOLS"):
            pytest.fail(hint)  # in CI a missing browser is a failure, never a skip
        pytest.skip(hint)
    root = tmp_path / "lake"
    pipeline = make_pipeline(kafka_bootstrap, root)
    trades = breach_day(pipeline, root)
    symbol = breached_symbol(root)
    # a fresh set of topics for the live phase: a speed layer that exited with
    # --exit-when-idle has flushed every window, and restored it treats new trades as late
    pipeline = make_pipeline(kafka_bootstrap, root)
    pipeline.create_topics()
    serve_port, metrics_port = pick_free_ports("127.0.0.1", 2)
    processes = [
        pipeline.start("speed", "--live", "--idle-timeout-ms", "1000", "--metrics-port",
                       str(metrics_port), log_path=tmp_path / "speed.log"),
        pipeline.start("serve", "--port", str(serve_port), "--speed-metrics-url",
                       f"http://127.0.0.1:{metrics_port}/metrics", log_path=tmp_path / "serve.log"),
    ]
    stop = threading.Event()
    last = {t.symbol: t for t in trades}
    producer = threading.Thread(target=produce_now, args=(pipeline, last, stop), daemon=True)
    try:
        base = f"http://127.0.0.1:{serve_port}"
        wait_healthy(base, processes[1], tmp_path / "serve.log")
        producer.start()
        yield base, symbol
    finally:
        stop.set()
        producer.join(10)
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"candles serve exited:\n{log.read_text()}"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"candles serve did not answer:\n{log.read_text()}")


def chart(page: Any, expression: str) -> Any:
    return page.evaluate(f"(() => {{ const c = window.candlesChart; return {expression}; }})()")


CANVAS_DRAWN = """(() => {
  const canvases = [...document.querySelectorAll('#chart canvas')];
  const big = canvases.sort((a, b) => b.width * b.height - a.width * a.height)[0];
  const data = big.getContext('2d').getImageData(0, 0, big.width, big.height).data;
  const colors = new Set();
  for (let i = 0; i < data.length; i += 4 * 97) colors.add(data.slice(i, i + 3).join(','));
  return colors.size;
})()"""


def test_the_page_draws_merged_live_candles_and_marks_the_breach(
        served: tuple[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    base, symbol = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/?symbol={symbol}&interval=1s&from={DATE}T00:00:00Z")
            page.wait_for_function("window.candlesChart && window.candlesChart.loads >= 1",
                                   timeout=20_000)
            sources = chart(page, "c.bars.map(b => b.source)")
            assert sources[0] == "batch" and "speed" not in sources[:sources.index("speed")
                                                                   if "speed" in sources else 0]
            assert page.evaluate(CANVAS_DRAWN) > 3, "the chart canvas is blank"
            markers = chart(page, "c.markers")
            assert any(m["label"].startswith("drift ") and "late" in m["label"] for m in markers)

            # a live (in-progress) candle arrives within seconds, several a second
            page.wait_for_function("window.candlesChart.live >= 1", timeout=15_000)
            before = chart(page, "c.live")
            page.wait_for_timeout(2_000)
            assert chart(page, "c.live") - before >= 3
            assert chart(page, "c.bars[c.bars.length - 1].source") == "speed"

            page.wait_for_function("document.querySelector('#status').innerText"
                                   ".includes('breach')", timeout=10_000)
            hover_marker(page)
            tooltip = page.inner_text("#tooltip")
            assert "drift" in tooltip and "cause: late" in tooltip, tooltip
            page.screenshot(path=str(SCREENSHOT))

            one_second = chart(page, "c.bars.length")
            page.click("#intervals button[data-interval='1m']")
            page.wait_for_function("window.candlesChart.loads >= 2", timeout=10_000)
            assert set(chart(page, "c.bars.map(b => b.interval)")) == {"1m"}
            assert 0 < chart(page, "c.bars.length") < one_second
            assert not errors, errors
        finally:
            browser.close()


def hover_marker(page: Any) -> None:
    """Show the whole series and put the mouse on the worst breached candle.

    Live candles keep arriving while the mouse moves, and each new bar can shift the
    time scale by one bar, so the point is recomputed until the tooltip names the bar.
    """
    x, y, label = page.evaluate("""(() => {
      const c = window.candlesChart;
      c.chart.timeScale().fitContent();
      const breached = c.bars.filter(b => b.drift && b.drift.breach);
      const bar = breached.sort((a, b) => b.drift.drift - a.drift.drift)[0];
      return [bar.time, bar.plot.high, new Date(bar.time * 1000).toISOString()];
    })()""")
    tooltip = ""
    for _ in range(10):
        page.wait_for_timeout(300)
        point = page.evaluate(f"""(() => {{
          const c = window.candlesChart, box = document.getElementById('chart').getBoundingClientRect();
          return [box.left + c.chart.timeScale().timeToCoordinate({x}),
                  box.top + c.series.priceToCoordinate({y})];
        }})()""")
        page.mouse.move(1, 1)
        page.mouse.move(point[0], point[1])
        page.wait_for_selector("#tooltip:not([hidden])", timeout=5_000)
        tooltip = page.inner_text("#tooltip")
        if label in tooltip.splitlines()[0]:
            return
    raise AssertionError(f"the mouse never landed on the candle at {label}: {tooltip}")
