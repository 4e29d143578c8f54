"""The HTTP API: ``/candles``, ``/drift``, ``/symbols``, ``/status``, ``/stream`` (SSE),
``/healthz`` and ``/metrics``. Validation errors are 422 with a message naming the
parameter; a date without a report is 404."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from candle_core.parsing import SYMBOL_PATTERN
from candle_core.windows import parse_interval
from serving.merge import BATCH, in_window, page
from serving.services import Services
from serving.wire import CandlesPage, bar_wire

router = APIRouter()
DEFAULT_BARS = 500
KEEPALIVE_S = 10.0
Symbol = Annotated[str, Query(pattern=f"^{SYMBOL_PATTERN.pattern}$",
                              description="An upper-case symbol, e.g. BTCUSDT.")]
Interval = Annotated[str, Query(description="One of the configured intervals (1s, 10s, ...).")]


def services(request: Request) -> Services:
    return request.app.state.services


def bad(param: str, message: str) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["query", param], "msg": message}])


def check_interval(svc: Services, interval: str) -> int:
    if interval not in svc.settings.intervals:
        raise bad("interval", f"{interval!r} is not one of {', '.join(svc.settings.intervals)}")
    return parse_interval(interval)


def parse_time(param: str, value: str) -> int:
    """An ISO 8601 time with a zone (or a date, meaning its UTC midnight) as epoch us."""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad(param, f"{value!r} is not an ISO 8601 time, e.g. 2026-01-01T00:00:00Z"
                  ) from None
    if len(value) == 10:
        moment = moment.replace(tzinfo=dt.UTC)
    if moment.tzinfo is None:
        raise bad(param, f"{value!r} has no time zone: add Z or +00:00")
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


@router.get("/candles", response_model=CandlesPage, summary="One merged series")
def candles(request: Request, symbol: Symbol, interval: Interval,
            from_: Annotated[str | None, Query(alias="from", description=(
                "ISO 8601 start (inclusive); default: 500 bars before `to`."))] = None,
            to: Annotated[str | None, Query(description=(
                "ISO 8601 end (exclusive); default: now."))] = None,
            limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
            cursor: Annotated[int | None, Query(ge=0, description=(
                "`next_cursor` of the previous page."))] = None) -> dict[str, Any]:
    """Batch bars where the day is reconciled, speed bars elsewhere (see docs/serving.md)."""
    svc = services(request)
    interval_us = check_interval(svc, interval)
    to_us = parse_time("to", to) if to else int(time.time() * 1e6) + interval_us
    from_us = parse_time("from", from_) if from_ else to_us - DEFAULT_BARS * interval_us
    if from_us >= to_us:
        raise bad("from", "must be before `to`")
    start_us = max(from_us, cursor or 0)
    bars: list[dict[str, Any]] = []
    collected = []
    for day in svc.days(symbol, interval, interval_us, start_us, to_us):
        collected += in_window(svc.day_bars(symbol, interval, interval_us, day), start_us, to_us)
        if len(collected) > limit:
            break
    shown, next_cursor = page(collected, limit)
    for bar in shown:
        drift = svc.drift_of(bar.candle, interval) if bar.source == BATCH else None
        bars.append(bar_wire(bar, drift))
    return {"symbol": symbol, "interval": interval, "from_us": from_us, "to_us": to_us,
            "bars": bars, "next_cursor": next_cursor}


@router.get("/drift", summary="A day's reconciliation summary and worst candles")
def drift(request: Request, date: Annotated[str, Query(
        pattern=r"^\d{4}-\d{2}-\d{2}$", description="UTC date YYYY-MM-DD.")]) -> dict[str, Any]:
    report = services(request).reader.report(date)
    if report is None:
        raise HTTPException(404, detail=f"no reconciliation report for {date}: run "
                            f"`candles reconcile --date {date}`")
    keys = ("date", "verdict", "threshold", "candles", "totals", "attributed", "evidence",
            "worst", "run_id", "generated_at")
    data = report.to_dict()
    return {key: data.get(key) for key in keys}


@router.get("/symbols", summary="Symbols with candles, and the intervals served")
def symbols(request: Request) -> dict[str, Any]:
    svc = services(request)
    return {"symbols": svc.symbols(), "intervals": list(svc.settings.intervals)}


@router.get("/status", summary="Throughput, consumer lag, late and DLQ rates, last verdict")
def status(request: Request) -> dict[str, Any]:
    return services(request).status.snapshot()


@router.get("/healthz", summary="Liveness")
def healthz(request: Request) -> dict[str, Any]:
    svc = services(request)
    return {"status": "ok", "ring_candles": len(svc.ring), "live_feed": svc.feed_running()}


@router.get("/metrics", summary="Prometheus metrics of the serving process")
def metrics(request: Request) -> Response:
    return Response(generate_latest(services(request).metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)


@router.get("/stream", summary="Server-Sent Events: final and in-progress candles",
            response_class=StreamingResponse)
async def stream(request: Request, symbol: Symbol, interval: Interval) -> StreamingResponse:
    """``data:`` lines of ``{"kind": "final"|"live", "bar": Bar}`` for one series."""
    svc = services(request)
    interval_us = check_interval(svc, interval)
    return StreamingResponse(events(request, svc, symbol, interval_us),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


async def events(request: Request, svc: Services, symbol: str,
                 interval_us: int) -> AsyncIterator[str]:
    subscriber = svc.hub.subscribe(symbol, interval_us)
    try:
        yield ": connected\n\n"
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            yield f"data: {json.dumps(event)}\n\n"
    finally:
        svc.hub.unsubscribe(subscriber)
