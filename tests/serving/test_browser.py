"""The chart page in a real browser (Debian's chromium via Playwright), on the real broker.

A past day (``DATE``) goes through the whole pipeline with 1% late trades beyond the
revision horizon, so its reconciliation is a breach with drifted candles; then the speed
layer runs with ``--live``, ``candles serve`` starts, and trades for *now* flow in from a
background thread. The page must draw the merged series (batch bars of the reconciled day,
then the speed tail), receive live updates, mark a breached candle, redraw a bar that a
late trade revised (and keep it when an older copy is delivered again) and switch
interval. It also writes the docs' screenshots, ``docs/img/chart.png`` and
``docs/img/revised-bar.png``.

A revision, on the speed layer's real path::

    now-6s        now-5s      ...      now (watermark = now - 2 s)
    |  1 s bar T  |  (closed: final, revision 0, on the page)
       ^ a late trade for T, price above T's high
         -> candles: T revision 1 -> candles serve -> /stream -> the page redraws T
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import orjson
import pyarrow.parquet as pq
import pytest
from confluent_kafka import Producer

from candle_core.codec import candle_message_key, decode_candle
from candle_core.fixed_point import format_price, to_fixed
from candle_core.trade import Trade
from kafka_ops.process import pick_free_ports
from tests.pipeline import Pipeline
from tests.reconciliation.runs import DATE, make_pipeline, run_pipeline
from tests.speed_layer.trades import as_records, clean_stream

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
SCREENSHOT = IMAGES / "chart.png"
REVISED_SCREENSHOT = IMAGES / "revised-bar.png"
TRADES = 4_000
ONE_S = 1_000_000
LATE_TRADE_ID = 20_000_000


class Served(NamedTuple):
    base: str  # the page's URL
    symbol: str  # the breached symbol, shown on the page
    pipeline: Pipeline  # the live phase's topics


def breach_day(pipeline: Pipeline, root: Path) -> list[Trade]:
    """DATE through speed, archive, batch and reconcile, with 1% late trades, all beyond
    the revision horizon (0 here): they go to trades.late, never revise a speed candle, so
    the speed and batch layers drift."""
    pipeline.extra_env["CANDLES_REVISION_HORIZON_MS"] = "0"
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
    """Trades stamped with the wall clock, ~40 a second, until ``stop``.

    One producer for the whole run (a new idempotent one each time can stall for a second,
    and trades that arrive after their partition idled out are late: they would revise
    bars the test did not mean to). Partitioned like :meth:`Pipeline.produce` (by symbol).
    """
    rnd = random.Random(3)
    prices = {s: t.price for s, t in last.items()}
    trade_id = 10_000_000
    producer = Producer({"bootstrap.servers": pipeline.bootstrap, "linger.ms": 5,
                         "partitioner": "murmur2_random"})
    topic = pipeline.settings.topic_trades
    while not stop.is_set():
        for symbol in prices:
            trade_id += 1
            prices[symbol] = max(1, prices[symbol] + rnd.randint(-1_000, 1_000))
            now_us = time.time_ns() // 1000
            trade = Trade(symbol, trade_id, now_us, prices[symbol], rnd.randint(1, 10**10),
                          "test", "buy")
            producer.produce(topic, orjson.dumps(trade.to_wire()), symbol.encode(),
                             timestamp=now_us // 1000)
        producer.flush(10)
        stop.wait(0.2)


@pytest.fixture
def served(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Served]:
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
        yield Served(base, symbol, pipeline)
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


def test_the_page_draws_merged_live_candles_and_marks_the_breach(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    base, symbol = served.base, served.symbol
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
            # the tooltip hover() saw on the breached bar: read again, it may already name a
            # neighbour (a live bar shifts the time scale under the still mouse)
            tooltip = hover_marker(page)
            assert "drift" in tooltip and "cause: late" in tooltip, tooltip
            page.screenshot(path=str(SCREENSHOT))

            revised_bar_is_redrawn_and_marked(page, served)

            one_second = chart(page, "c.bars.length")
            page.click("#intervals button[data-interval='1m']")
            page.wait_for_function("window.candlesChart.loads >= 2", timeout=10_000)
            assert set(chart(page, "c.bars.map(b => b.interval)")) == {"1m"}
            assert 0 < chart(page, "c.bars.length") < one_second
            assert not errors, errors
        finally:
            browser.close()


def hover_marker(page: Any) -> str:
    """Show the whole series and put the mouse on the worst breached candle; its tooltip."""
    time_s, high = page.evaluate("""(() => {
      const c = window.candlesChart;
      c.chart.timeScale().fitContent();
      const breached = c.bars.filter(b => b.drift && b.drift.breach);
      const bar = breached.sort((a, b) => b.drift.drift - a.drift.drift)[0];
      return [bar.time, bar.plot.high];
    })()""")
    return hover(page, time_s, high)


def hover(page: Any, time_s: int, price: float) -> str:
    """Put the mouse on the bar at ``time_s`` (epoch seconds), at ``price``; its tooltip.

    Live candles keep arriving while the mouse moves, and each new bar can shift the
    time scale by one bar, so the point is recomputed until the tooltip names the bar.
    """
    label = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time_s))
    tooltip = ""
    for _ in range(10):
        page.wait_for_timeout(300)
        point = page.evaluate(f"""(() => {{
          const c = window.candlesChart;
          const box = document.getElementById('chart').getBoundingClientRect();
          return [box.left + c.chart.timeScale().timeToCoordinate({time_s}),
                  box.top + c.series.priceToCoordinate({price})];
        }})()""")
        page.mouse.move(1, 1)
        page.mouse.move(point[0], point[1])
        page.wait_for_selector("#tooltip:not([hidden])", timeout=5_000)
        tooltip = page.inner_text("#tooltip")
        if label in tooltip.splitlines()[0]:
            return tooltip
    raise AssertionError(f"the mouse never landed on the candle at {label}: {tooltip}")


def final_bar(base: str, symbol: str) -> dict[str, Any]:
    """A final 1 s speed bar from /candles that closed at least 5 s ago (the watermark
    trails the newest trade by the 2 s allowed lateness), with 20 speed bars before it for
    the screenshot. Trades for now started flowing when the page opened, so that may take
    a few seconds."""
    deadline = time.monotonic() + 60
    while True:
        now_s = time.time()
        bars = httpx.get(f"{base}/candles", params={
            "symbol": symbol, "interval": "1s",
            "from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_s - 120))}).json()["bars"]
        closed = [b for b in bars if b["time"] <= now_s - 6 and b["source"] == "speed"]
        if len(closed) > 20:
            return closed[-1]
        assert time.monotonic() < deadline, f"no final 1 s bar 6 s old: {bars[-3:]}"
        time.sleep(0.5)


def rest_bar(base: str, symbol: str, time_s: int) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time_s))
    bars = httpx.get(f"{base}/candles", params={"symbol": symbol, "interval": "1s",
                                                "from": stamp, "limit": 1}).json()["bars"]
    assert bars and bars[0]["time"] == time_s, bars
    bar: dict[str, Any] = bars[0]
    return bar


def late_trade(bar: dict[str, Any]) -> tuple[Trade, str]:
    """A trade for ``bar``'s closed window, priced a few bar ranges above its high (so the
    redrawn bar shows), and the high the revised bar must have."""
    high = to_fixed(Decimal(bar["high"]), 8)
    spike = max(3 * (high - to_fixed(Decimal(bar["low"]), 8)), 2_000)
    price = high + spike
    trade = Trade(bar["symbol"], LATE_TRADE_ID, bar["window_start_us"] + ONE_S // 2, price,
                  10**8, "test", "buy")
    return trade, format_price(price)  # the API's spelling: the shortest exact decimal


def revised_bar_is_redrawn_and_marked(page: Any, served: Served) -> None:
    """A late trade revises a closed 1 s bar: the page redraws it in place and marks it;
    then the bar's first emission (revision 0) is delivered again and changes nothing.

    The bar may already have been revised by a trade of the background stream that came
    late: the late trade's revision is the one after the bar's, whatever that was."""
    base, symbol, pipeline = served
    bar = final_bar(base, symbol)
    time_s = bar["time"]
    trade, high = late_trade(bar)
    pipeline.produce([(symbol.encode(), orjson.dumps(trade.to_wire()), int(time.time() * 1000))])
    revision = bar["revision"] + 1
    page.wait_for_function(f"(() => {{ const b = window.candlesChart.byTime.get({time_s}); "
                           f"return b && b.revision >= {revision}; }})()", timeout=20_000)
    page.wait_for_function("window.candlesChart.redraws >= 1", timeout=5_000)
    shown = chart(page, f"c.byTime.get({time_s})")
    assert (shown["revision"], shown["high"]) == (revision, high), shown
    assert shown["trade_count"] == bar["trade_count"] + 1
    times = chart(page, "c.bars.map(b => b.time)")
    assert times == sorted(set(times)), "the revised bar was added, not redrawn in place"
    drawn = chart(page, f"c.series.data().find(d => d.time === {time_s})")
    assert drawn["high"] == shown["plot"]["high"] and drawn["borderColor"] == "#ffd600", drawn
    assert {"time": time_s, "label": f"revision {revision}"}.items() <= next(
        m for m in chart(page, "c.markers") if m["time"] == time_s).items()
    rest = rest_bar(base, symbol, time_s)
    assert (rest["revision"], rest["high"]) == (revision, high), rest

    stale = stale_candles(base)
    redeliver_first_emission(pipeline, symbol, bar["window_start_us"])
    wait_for(lambda: stale_candles(base) > stale, "candles serve never dropped the "
             "redelivered revision-0 candle")
    assert chart(page, f"c.byTime.get({time_s}).revision") == revision
    assert rest_bar(base, symbol, time_s)["revision"] == revision

    page.evaluate(f"""(() => {{
      const c = window.candlesChart, at = c.bars.findIndex(b => b.time === {time_s});
      c.chart.timeScale().setVisibleLogicalRange({{from: at - 24, to: at + 5}});
    }})()""")
    tooltip = hover(page, time_s, shown["plot"]["high"])
    assert f"revision {revision}" in tooltip, tooltip
    page.screenshot(path=str(REVISED_SCREENSHOT))


def redeliver_first_emission(pipeline: Pipeline, symbol: str, window_start_us: int) -> None:
    """The bar's revision-0 message on ``candles`` produced again, after its revision 1
    (what a replayed or out-of-order delivery looks like to ``candles serve``)."""
    key = candle_message_key(symbol, ONE_S, window_start_us)
    topic = pipeline.settings.topic_candles
    first = [m.value() for m in pipeline.messages(topic) if m.key() == key
             and decode_candle(m.value() or b"").revision == 0]
    assert len(first) == 1, f"{len(first)} revision-0 messages of {key!r}"
    pipeline.produce([(key, first[0], int(time.time() * 1000))], topic=topic)


def stale_candles(base: str) -> float:
    """``candles_serve_stale_candles_total``: final candles dropped as stale copies."""
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith("candles_serve_stale_candles_total "):
            return float(line.split()[-1])
    return 0.0


def wait_for(condition: Callable[[], bool], message: str, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.3)
