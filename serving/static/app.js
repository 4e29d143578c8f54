// lambda-candles chart: the merged series from /candles, live updates from /stream (SSE),
// revised bars redrawn in place, markers on drifted and revised candles, a status strip
// from /status. Exposes window.candlesChart (bars, live updates, revisions, markers) for
// the browser tests.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const state = { symbol: params.get("symbol"), interval: params.get("interval") || "1s",
                  from: params.get("from"), bars: [], byTime: new Map(), live: 0,
                  lastLiveAt: 0, markers: [], source: null, loads: 0, revised: 0, redraws: 0,
                  batchDays: new Set() };
  window.candlesChart = state;
  const COLORS = {
    verified: { up: "#26a69a", down: "#ef5350" },
    unverified: { up: "#9e9e9e", down: "#616161" },
    speed: { up: "rgba(100,181,246,0.25)", down: "rgba(255,138,128,0.25)",
             upBorder: "#64b5f6", downBorder: "#ff8a80" },
    revised: "#ffd600",  // border, wick and marker of a bar the speed layer revised
  };
  const chart = LightweightCharts.createChart(document.getElementById("chart"), {
    autoSize: true, layout: { background: { color: "#111418" }, textColor: "#d7dce2" },
    grid: { vertLines: { color: "#1f252c" }, horzLines: { color: "#1f252c" } },
    timeScale: { timeVisible: true, secondsVisible: true },
  });
  const candles = chart.addCandlestickSeries({ priceFormat: { type: "price", precision: 6, minMove: 0.000001 } });
  const volume = chart.addHistogramSeries({ priceScaleId: "volume", priceFormat: { type: "volume" } });
  chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  candles.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.25 } });
  state.chart = chart;
  state.series = candles;

  const revision = (bar) => bar.revision || 0;
  function style(bar) {
    const up = bar.plot.close >= bar.plot.open;
    if (bar.source === "speed") {
      const c = COLORS.speed;
      const edge = revision(bar) > 0 ? COLORS.revised : up ? c.upBorder : c.downBorder;
      return { color: up ? c.up : c.down, borderColor: edge, wickColor: edge };
    }
    const c = bar.verified ? COLORS.verified : COLORS.unverified;
    return { color: up ? c.up : c.down, borderColor: up ? c.up : c.down, wickColor: up ? c.up : c.down };
  }
  const point = (bar) => ({ time: bar.time, open: bar.plot.open, high: bar.plot.high,
                            low: bar.plot.low, close: bar.plot.close, ...style(bar) });
  const volumePoint = (bar) => ({ time: bar.time, value: bar.plot.volume,
    color: bar.source === "speed" ? "rgba(100,181,246,0.35)" : "rgba(38,166,154,0.5)" });
  const pct = (x) => (100 * x).toFixed(3) + "%";

  function driftMarker(bar) {
    const d = bar.drift;
    const causes = Object.entries(d.causes).map(([k, v]) => `${k} ${v}`).join(", ") || "unexplained";
    // no text on the chart (neighbours would overlap): the tooltip says drift and cause
    return { time: bar.time, position: "aboveBar", shape: "arrowDown", size: d.breach ? 1 : 0.6,
             color: d.breach ? "#e040fb" : "#ffb74d", label: `drift ${pct(d.drift)} (${causes})` };
  }
  const revisionMarker = (bar) => ({ time: bar.time, position: "belowBar", shape: "circle",
    size: 0.7, color: COLORS.revised, label: `revision ${bar.revision}` });

  function drawMarkers() {  // bars are sorted by time, so the markers are too
    state.markers = [];
    for (const bar of state.bars) {
      if (bar.drift) state.markers.push(driftMarker(bar));
      if (revision(bar) > 0) state.markers.push(revisionMarker(bar));
    }
    candles.setMarkers(state.markers.map(({ label, ...m }) => m));
  }
  const dayOf = (time) => Math.floor(time / 86400);

  async function getJSON(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  async function load() {
    const query = new URLSearchParams({ symbol: state.symbol, interval: state.interval, limit: "5000" });
    if (state.from) query.set("from", state.from);
    let bars = [], cursor = null;
    do {
      if (cursor !== null) query.set("cursor", cursor);
      const page = await getJSON(`/candles?${query}`);
      bars = bars.concat(page.bars);
      cursor = page.next_cursor;
    } while (cursor !== null && bars.length < 50000);
    state.bars = bars;
    state.byTime = new Map(bars.map((b) => [b.time, b]));
    state.batchDays = new Set(bars.filter((b) => b.source === "batch").map((b) => dayOf(b.time)));
    candles.setData(bars.map(point));
    volume.setData(bars.map(volumePoint));
    drawMarkers();
    chart.timeScale().scrollToRealTime();
    state.loads += 1;
    subscribe();
  }

  function subscribe() {
    if (state.source) state.source.close();
    const query = new URLSearchParams({ symbol: state.symbol, interval: state.interval });
    state.source = new EventSource(`/stream?${query}`);
    state.source.onmessage = (message) => apply(JSON.parse(message.data));
  }

  // A bar replaces the one held for its window unless that one is a batch bar (a reconciled
  // day: the truth) or a higher revision (the server drops stale copies; this is the
  // page's own guard). Equal revisions replace: a final candle over its live partial. A
  // window with no bar yet is added after the series' end, or inside it on a day that has
  // no batch bars (a late trade in a window that had none).
  function replaces(bar, held, last) {
    if (held) return held.source !== "batch" && revision(bar) >= revision(held);
    return !last || bar.time > last.time || !state.batchDays.has(dayOf(bar.time));
  }

  function apply(event) {
    const bar = event.bar;
    if (bar.interval !== state.interval || bar.symbol !== state.symbol) return;
    const first = state.bars[0], last = state.bars[state.bars.length - 1];
    if (first && bar.time < first.time) return;  // before the loaded range
    const held = state.byTime.get(bar.time);
    if (!replaces(bar, held, last)) return;
    state.byTime.set(bar.time, bar);
    if (!last || bar.time >= last.time) {  // the newest bar: the chart updates it in place
      if (last && bar.time === last.time) state.bars[state.bars.length - 1] = bar;
      else state.bars.push(bar);
      candles.update(point(bar));
      volume.update(volumePoint(bar));
    } else {  // an older bar (a final after its live partial, or a revision): redraw
      redrawWith(bar, held);
    }
    if (revision(bar) > 0) { state.revised += 1; drawMarkers(); }
    if (event.kind === "live") { state.live += 1; state.lastLiveAt = Date.now(); }
  }

  const samePlot = (a, b) => a && a.trade_count === b.trade_count && revision(a) === revision(b)
    && ["open", "high", "low", "close", "volume"].every((k) => a.plot[k] === b.plot[k]);

  function redrawWith(bar, held) {
    let lo = 0, hi = state.bars.length;  // the first bar at or after bar.time
    while (lo < hi) { const mid = (lo + hi) >> 1; if (state.bars[mid].time < bar.time) lo = mid + 1; else hi = mid; }
    state.bars.splice(lo, held ? 1 : 0, bar);
    if (!samePlot(held, bar)) scheduleRedraw();
  }

  let redrawPending = false;
  function scheduleRedraw() {  // at most one setData a frame, however many bars changed
    if (redrawPending) return;
    redrawPending = true;
    requestAnimationFrame(() => {
      redrawPending = false;
      candles.setData(state.bars.map(point));
      volume.setData(state.bars.map(volumePoint));
      state.redraws += 1;
    });
  }

  const tooltip = document.getElementById("tooltip");
  chart.subscribeCrosshairMove((param) => {
    const bar = param.time !== undefined ? state.byTime.get(param.time) : undefined;
    if (!bar || !param.point) { tooltip.hidden = true; return; }
    const lines = [`${bar.symbol} ${bar.interval} ${new Date(bar.time * 1000).toISOString()}`,
      `O ${bar.open}  H ${bar.high}  L ${bar.low}  C ${bar.close}`,
      `V ${bar.volume}  VWAP ${bar.vwap}  trades ${bar.trade_count}`,
      `${bar.source}${bar.verified ? ", verified" : ""}`];
    if (revision(bar) > 0) lines.push(`revision ${bar.revision}: redrawn after late trades`);
    if (bar.drift) {
      const causes = Object.entries(bar.drift.causes).map(([k, v]) => `${k}: ${v}`).join(", ");
      lines.push(`drift ${pct(bar.drift.drift)} ${bar.drift.breach ? "(breach)" : ""} ${bar.drift.match}`,
                 `cause: ${causes || "unexplained"}`);
    }
    tooltip.textContent = lines.join("\n");
    tooltip.hidden = false;
    const right = param.point.x + 20 + tooltip.offsetWidth > window.innerWidth;
    tooltip.style.left = `${right ? param.point.x - 20 - tooltip.offsetWidth : param.point.x + 20}px`;
    tooltip.style.top = `${param.point.y + 90}px`;
  });

  function fmt(value, digits) { return value === null || value === undefined ? "n/a" : Number(value).toFixed(digits); }
  async function refreshStatus() {
    try {
      const s = await getJSON("/status");
      const v = s.last_verdict;
      const verdict = v ? `<b class="${v.verdict}">${v.verdict}</b> ${v.date} (${v.breached} breached)` : "none yet";
      document.getElementById("status").innerHTML =
        `<span>throughput <b>${fmt(s.throughput_per_s, 0)}/s</b></span>` +
        `<span>consumer lag <b>${s.consumer_lag}</b></span>` +
        `<span>late <b>${fmt(s.late_per_s, 1)}/s</b></span>` +
        `<span>DLQ <b>${fmt(s.dlq_per_s, 1)}/s</b></span>` +
        `<span>last reconciliation ${verdict}</span><span>(${s.source})</span>`;
    } catch (error) { document.getElementById("status").textContent = String(error); }
  }

  function intervalButtons(intervals) {
    const box = document.getElementById("intervals");
    for (const label of intervals) {
      const button = document.createElement("button");
      button.textContent = label;
      button.dataset.interval = label;
      button.onclick = () => { state.interval = label; highlight(); load(); };
      box.appendChild(button);
    }
    highlight();
  }
  function highlight() {
    for (const b of document.querySelectorAll("#intervals button"))
      b.classList.toggle("active", b.dataset.interval === state.interval);
  }

  async function start() {
    const info = await getJSON("/symbols");
    const select = document.getElementById("symbol");
    for (const symbol of info.symbols) select.add(new Option(symbol, symbol));
    state.symbol = state.symbol || info.symbols[0];
    if (state.symbol && !info.symbols.includes(state.symbol)) select.add(new Option(state.symbol, state.symbol));
    select.value = state.symbol;
    select.onchange = () => { state.symbol = select.value; load(); };
    intervalButtons(info.intervals);
    refreshStatus();
    setInterval(refreshStatus, 2000);
    if (state.symbol) await load();
  }
  start().catch((error) => { document.getElementById("status").textContent = String(error); });
})();
