"""The feed server (``candles feed serve``): numbering, pacing, and both shapes over real
HTTP on localhost. No broker needed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sources.chaos import CHAOS_PRESET
from sources.feed.catalog import Catalog
from sources.feed.server import feed_app, run_in_thread, serve_in_thread
from sources.feed.wire import Envelope, decode_envelope, decode_page, encode_envelope
from sources.formats import open_records
from sources.outputs import drain
from sources.pacing import Pace
from sources.records import Record
from sources.simulator import SimulationConfig, simulate

START_US = 1_704_067_200_000_000


def write_chaos_file(path: Path, trades: int = 3_000, seed: int = 11) -> list[Record]:
    """A simulated NDJSON file with every fault (malformed, duplicates, late...), ending
    about now (the DLQ keeps 30 days by message timestamp: older records would expire)."""
    start_us = (int(time.time()) - 3_600) * 1_000_000
    config = SimulationConfig(trades=trades, start_us=start_us, seed=seed, symbols=4,
                              chaos=CHAOS_PRESET)
    drain(simulate(config), path, None, None, threading.Event())
    return list(open_records(path))


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Record]]:
    path = tmp_path_factory.mktemp("feed") / "trades.ndjson"
    return path, write_chaos_file(path)


@pytest.fixture(scope="module")
def feed_url(chaos: tuple[Path, list[Record]]) -> Iterator[str]:
    url, stop = serve_in_thread(chaos[0])
    yield url
    stop()


def _stream(url: str, after: int = 0) -> list[Envelope]:
    with httpx.stream("GET", f"{url}/stream", params={"after": after}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [decode_envelope(line.encode()) for line in response.iter_lines() if line]


def test_envelopes_keep_the_exact_bytes_of_valid_and_malformed_records() -> None:
    cases = [
        b'{"symbol":"BTCUSDT","trade_id":1,"ts":1,"price":1.50,"size":"2"}',  # spliced as is
        b'{"symbol": "BTC", "trade_id": 1,',  # not JSON: base64
        b"\xff\xfe not utf-8",  # not even text
        b"",  # empty value
    ]
    for value in cases:
        envelope = decode_envelope(encode_envelope(7, 3, Record(b"BTC", value, 5)))
        assert (envelope.seq, envelope.id, envelope.symbol, envelope.arrival_us) == (7, 3,
                                                                                   "BTC", 5)
        assert envelope.value() == value


def test_catalog_numbers_records_by_file_order_and_per_symbol() -> None:
    records = [Record(b"A", b"{}", 10), Record(b"B", b"{}", 11), Record(b"A", b"{}", 12),
               Record(b"", b"oops", 12)]
    catalog = Catalog.build(records, Pace())
    envelopes = [decode_envelope(e) for e in catalog.envelopes]
    assert [(e.seq, e.symbol, e.id) for e in envelopes] == [(1, "A", 1), (2, "B", 1),
                                                            (3, "A", 2), (4, "", 1)]
    assert catalog.feed_id == Catalog.build(records, Pace()).feed_id
    assert catalog.released(0.0) == 4  # unpaced: everything is out at once


def test_release_schedule_follows_the_pace_and_never_goes_back() -> None:
    #   arrival (s):  0    2    1    4      at --speed 2 due at 0, 1, 1 (not 0.5), 2
    records = [Record(b"A", b"{}", START_US + s * 1_000_000) for s in (0, 2, 1, 4)]
    catalog = Catalog.build(records, Pace(speed=2.0))
    assert catalog.due_s == [0.0, 1.0, 1.0, 2.0]
    assert [catalog.released(t) for t in (0.0, 0.99, 1.0, 5.0)] == [1, 1, 3, 4]
    capped = Catalog.build(records, Pace(max_rate=10.0))
    assert capped.due_s == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_stream_serves_every_record_in_order_then_the_end_marker(
        chaos: tuple[Path, list[Record]], feed_url: str) -> None:
    envelopes = _stream(feed_url)
    assert envelopes[-1].end and envelopes[-1].last_seq == len(chaos[1])
    records = envelopes[:-1]
    assert [e.seq for e in records] == list(range(1, len(chaos[1]) + 1))
    assert [e.value() for e in records] == [r.value for r in chaos[1]]
    assert [e.arrival_us for e in records] == [r.timestamp_us for r in chaos[1]]


def test_stream_resumes_after_a_sequence_number(feed_url: str) -> None:
    envelopes = _stream(feed_url, after=2_500)
    assert envelopes[0].seq == 2_501 and envelopes[-1].end


def test_rest_pages_each_symbol_by_from_id(chaos: tuple[Path, list[Record]],
                                           feed_url: str) -> None:
    listing = httpx.get(f"{feed_url}/symbols").json()
    assert listing["complete"] and listing["total"] == len(chaos[1])
    seen: list[Envelope] = []
    for symbol in listing["symbols"]:
        from_id = 1
        while True:
            response = httpx.get(f"{feed_url}/trades",
                                 params={"symbol": symbol, "from_id": from_id, "limit": 97})
            page = decode_page(response.content)
            assert [e.id for e in page] == list(range(from_id, from_id + len(page)))
            assert all(e.symbol == symbol for e in page)
            seen += page
            if len(page) < 97:
                break
            from_id += len(page)
    assert sorted(e.seq for e in seen) == list(range(1, len(chaos[1]) + 1))
    by_seq = {e.seq: e.value() for e in seen}
    assert [by_seq[seq] for seq in range(1, len(chaos[1]) + 1)] == [r.value for r in chaos[1]]


def test_rest_rejects_a_bad_request(feed_url: str) -> None:
    assert httpx.get(f"{feed_url}/trades", params={"symbol": "A", "limit": 5_000}
                     ).status_code == 422  # above the page limit
    assert httpx.get(f"{feed_url}/trades").status_code == 422  # symbol is required


def test_rest_shows_only_released_records_on_the_feed_clock() -> None:
    now = [0.0]
    records = [Record(b"A", b'{"n":%d}' % i, START_US + i * 1_000_000) for i in range(5)]
    url, stop = run_in_thread(feed_app(Catalog.build(records, Pace(speed=1.0)),
                                       clock=lambda: now[0]))
    try:
        def ids() -> list[int]:
            body = httpx.get(f"{url}/trades", params={"symbol": "A"}).content
            return [e.id for e in decode_page(body)]

        assert ids() == [1]
        now[0] = 2.5
        assert ids() == [1, 2, 3]
        assert not httpx.get(f"{url}/symbols").json()["complete"]
        now[0] = 10.0
        assert ids() == [1, 2, 3, 4, 5]
        assert httpx.get(f"{url}/symbols").json()["complete"]
    finally:
        stop()


def test_records_without_a_readable_symbol_are_served_under_the_empty_symbol() -> None:
    records = [Record(b"", b"garbage", 1), Record(b"A", b"{}", 2)]
    url, stop = run_in_thread(feed_app(Catalog.build(records, Pace())))
    try:
        assert httpx.get(f"{url}/symbols").json()["symbols"] == ["", "A"]
        page = decode_page(httpx.get(f"{url}/trades", params={"symbol": ""}).content)
        assert [(e.seq, e.id, e.value()) for e in page] == [(1, 1, b"garbage")]
    finally:
        stop()
