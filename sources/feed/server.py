"""The feed's HTTP API (FastAPI) and a uvicorn runner on a background thread.

* ``GET /stream?after=SEQ``: NDJSON (chunked), every released record with seq > SEQ, then
  waits for the next; ends with the end marker once the file is done. A keepalive blank
  line goes out after ``KEEPALIVE_S`` of silence, so a slow feed never looks dead.
* ``GET /trades?symbol=S&from_id=ID&limit=N``: a JSON array of released records of S with
  per-symbol id >= ID, in id order (like an exchange's ``fromId`` paging; at most 1000).
* ``GET /symbols``: ``{"symbols": [...], "complete": bool, "released": n, "total": n}``.
* ``GET /info``: the feed id (a digest of its contents) and its size; ``GET /healthz``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Query, Response
from fastapi.responses import StreamingResponse

from sources.feed.catalog import MAX_PAGE, Catalog
from sources.feed.wire import end_marker
from sources.formats import FileFormat, open_records
from sources.pacing import Pace

KEEPALIVE_S = 5.0
CHUNK_RECORDS = 1_000  # records per chunk written to the socket
NDJSON = "application/x-ndjson"
START_TIMEOUT_S = 10.0


def feed_app(catalog: Catalog, clock: Callable[[], float] = time.monotonic) -> FastAPI:
    """The API over ``catalog``; its clock starts now."""
    app, started_s = FastAPI(title="candles feed"), clock()

    def elapsed() -> float:
        return clock() - started_s

    async def lines(after: int) -> AsyncIterator[bytes]:
        seq, total = max(after, 0) + 1, len(catalog.envelopes)
        while seq <= total:
            wait_s = catalog.wait_s(seq, elapsed())
            if wait_s > 0:
                await asyncio.sleep(min(wait_s, KEEPALIVE_S))
                if wait_s > KEEPALIVE_S:
                    yield b"\n"
                continue
            released = min(catalog.released(elapsed()), seq - 1 + CHUNK_RECORDS)
            yield b"".join(e + b"\n" for e in catalog.envelopes[seq - 1:released])
            seq = released + 1
        yield end_marker(total) + b"\n"

    @app.get("/stream")
    async def stream(after: int = Query(0, ge=0)) -> StreamingResponse:
        return StreamingResponse(lines(after), media_type=NDJSON)

    @app.get("/trades")
    def trades(symbol: str, from_id: int = Query(1, ge=0),
               limit: int = Query(500, ge=1, le=MAX_PAGE)) -> Response:
        page = catalog.page(symbol, from_id, limit, catalog.released(elapsed()))
        return Response(b"[" + b",".join(page) + b"]", media_type="application/json")

    @app.get("/symbols")
    def symbols() -> dict[str, object]:
        released = catalog.released(elapsed())
        return {"symbols": catalog.symbols(released), "released": released,
                "total": len(catalog.envelopes), "complete": released == len(catalog.envelopes)}

    @app.get("/info")
    def info() -> dict[str, object]:
        return {"feed_id": catalog.feed_id, "records": len(catalog.envelopes)}

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b"ok\n", media_type="text/plain")

    return app


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (port 0: any free port), handed to uvicorn so there is no race."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: without, Nagle + delayed ACK cost ~40 ms per request
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def run_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int = 0
                  ) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` on a daemon thread; returns its base URL and a function that stops it."""
    sock = bind(host, port)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="feed-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        raise RuntimeError(f"the feed server did not start on {host}:{sock.getsockname()[1]}")

    def stop() -> None:
        server.should_exit = True
        thread.join(START_TIMEOUT_S)
        sock.close()

    return f"http://{host}:{sock.getsockname()[1]}", stop


def serve_in_thread(path: Path, pace: Pace | None = None, file_format: FileFormat | None = None,
                    symbol: str | None = None, host: str = "127.0.0.1", port: int = 0
                    ) -> tuple[str, Callable[[], None]]:
    """Serve the trades file ``path`` as a feed on a background thread: ``(url, stop)``."""
    catalog = Catalog.build(open_records(path, file_format, symbol), pace or Pace())
    return run_in_thread(feed_app(catalog), host, port)
