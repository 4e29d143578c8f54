"""``candles feed serve FILE``: a tick API over a trades file, for development and demos.

Streams the file as NDJSON (``GET /stream``) and pages it like an exchange's REST API
(``GET /trades?symbol=&from_id=&limit=``), with ``replay``'s pacing options; records are
released on the feed's clock, so both shapes show the same live feed. See docs/sources.md.
"""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from lambda_candles.commands.replay import pace_from
from lambda_candles.options import pace_options
from sources.feed.catalog import Catalog
from sources.feed.server import bind, feed_app
from sources.formats import FileFormat, open_records


@click.group("feed")
def feed() -> None:
    """Serve a trades file over HTTP (stream and REST)."""


@feed.command("serve")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--format", "file_format", type=click.Choice([f.value for f in FileFormat]),
              default=None, help="Input format; default: detected (as for replay).")
@click.option("--symbol", default=None, help="Symbol of a Kibot or Binance file.")
@pace_options
def serve(file: Path, host: str, port: int, file_format: str | None, symbol: str | None,
          rate: str, realtime: bool, speed: float | None, max_rate: float | None) -> None:
    """Serve FILE: GET /stream (NDJSON), /trades (paged), /symbols, /info, /healthz."""
    pace = pace_from(rate, realtime, speed, max_rate)
    chosen = FileFormat(file_format) if file_format else None
    catalog = Catalog.build(open_records(file, chosen, symbol), pace)
    sock = bind(host, port)
    click.echo(f"feed {catalog.feed_id}: {len(catalog.envelopes):,} records of {file.name} "
               f"on http://{host}:{sock.getsockname()[1]}", err=True)
    server = uvicorn.Server(uvicorn.Config(feed_app(catalog), log_level="warning"))
    server.run(sockets=[sock])
