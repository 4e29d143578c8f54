"""The HTTP API on a small archive, no broker: the merge rule, paging, drift, bad params."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from candle_core.reference import candles_from_trades
from serving.app import STATIC, create_app
from serving.services import ServeOptions
from serving.vendor import RECORD_NAME, VENDOR_DIR
from tests.serving.archive import (
    DAY1,
    DAY1_US,
    DAY2_US,
    DRIFTED_WINDOW_US,
    REVISED_WINDOW_US,
    SYMBOL,
    build_archive,
    trades,
)

ONE_S = 1_000_000
SPAN = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-03T00:00:00Z"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store, settings = build_archive(tmp_path_factory.mktemp("serve") / "lake")
    app = create_app(settings, ServeOptions(kafka=False), store)
    with TestClient(app) as test_client:
        yield test_client


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_range_over_reconciled_and_unreconciled_days_is_batch_then_speed(
        client: TestClient) -> None:
    page = get(client, "/candles", symbol=SYMBOL, interval="1s", limit=5000, **SPAN)
    bars = page["bars"]
    sources = [b["source"] for b in bars]
    assert sources == ["batch"] * 120 + ["speed"] * 120
    assert all(b["verified"] for b in bars[:120]) and not any(b["verified"] for b in bars[120:])
    starts = [b["window_start_us"] for b in bars]
    assert starts == sorted(set(starts))  # no overlap
    assert starts[119] == DAY1_US + 119 * ONE_S and starts[120] == DAY2_US
    assert page["next_cursor"] is None


def test_a_window_covered_by_batch_never_shows_the_speed_bar(client: TestClient) -> None:
    bars = get(client, "/candles", symbol=SYMBOL, interval="10s",
               **{"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:02:00Z"})["bars"]
    assert len(bars) == 12 and {b["source"] for b in bars} == {"batch"}


def test_prices_are_exact_strings_with_floats_for_plotting(client: TestClient) -> None:
    bar = get(client, "/candles", symbol=SYMBOL, interval="1s",
              **{"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:01Z"})["bars"][0]
    assert bar["open"] == "50000.12345678" and bar["plot"]["open"] == 50000.12345678
    assert bar["time"] == DAY1_US // ONE_S


def test_a_drifted_batch_bar_carries_its_drift_and_cause(client: TestClient) -> None:
    bars = get(client, "/candles", symbol=SYMBOL, interval="1s", **SPAN, limit=20)["bars"]
    drifted = [b for b in bars if b["drift"]]
    assert [b["window_start_us"] for b in drifted] == [DRIFTED_WINDOW_US]
    assert drifted[0]["drift"] == {"drift": 0.02, "breach": True, "match": "drifted",
                                   "explained": True, "causes": {"late": 2}}


def test_paging_walks_the_whole_series_once(client: TestClient) -> None:
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"symbol": SYMBOL, "interval": "1s", "limit": 50, **SPAN}
        if cursor is not None:
            params["cursor"] = cursor
        page = get(client, "/candles", **params)
        seen += [b["window_start_us"] for b in page["bars"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 240


@pytest.mark.parametrize(("params", "where"), [
    ({"interval": "1s"}, "symbol"),                               # missing symbol
    ({"symbol": "btc usdt", "interval": "1s"}, "symbol"),         # not a well-formed symbol
    ({"symbol": SYMBOL, "interval": "2s"}, "interval"),           # not a configured interval
    ({"symbol": SYMBOL, "interval": "1s", "from": "yesterday-ish"}, "from"),  # not ISO 8601
    ({"symbol": SYMBOL, "interval": "1s", "to": "2026-01-01T00:00:00"}, "to"),  # no zone
    ({"symbol": SYMBOL, "interval": "1s", "from": "2026-01-02", "to": "2026-01-01"}, "from"),
    ({"symbol": SYMBOL, "interval": "1s", "limit": 0}, "limit"),  # below the minimum
    ({"symbol": SYMBOL, "interval": "1s", "limit": 10**6}, "limit"),  # above the maximum
    ({"symbol": SYMBOL, "interval": "1s", "cursor": -1}, "cursor"),
])
def test_bad_parameters_are_422_naming_the_parameter(
        client: TestClient, params: dict[str, Any], where: str) -> None:
    response = client.get("/candles", params=params)
    assert response.status_code == 422, response.text
    assert any(where in error["loc"] for error in response.json()["detail"]), response.text


def test_drift_gives_the_summary_and_404_for_a_date_without_report(client: TestClient) -> None:
    assert get(client, "/drift", date=DAY1)["verdict"] == "breach"
    missing = client.get("/drift", params={"date": "2026-01-02"})
    assert missing.status_code == 404 and "candles reconcile" in missing.text
    assert client.get("/drift", params={"date": "01/02/2026"}).status_code == 422


def test_a_revision_in_the_tail_replaces_the_archived_bar_and_a_stale_one_does_not(
        tmp_path: Path) -> None:
    """Day 2 is archived (revision 0); the topic's tail then brings a revision of its
    third second, and later an older revision of it (out of order)."""
    store, settings = build_archive(tmp_path / "lake")
    app = create_app(settings, ServeOptions(kafka=False), store)
    third = candles_from_trades(trades(DAY2_US, 3), ["1s"])[2]
    ring = app.state.services.ring
    assert ring.add(dataclasses.replace(third, high=third.high + 10**8, revision=2))
    assert not ring.add(dataclasses.replace(third, high=third.high + 10**6, revision=1))
    with TestClient(app) as fresh:
        bars = get(fresh, "/candles", symbol=SYMBOL, interval="1s", limit=5000, **SPAN)["bars"]
    by_start = {b["window_start_us"]: b for b in bars}
    shown = by_start[third.window_start_us]
    assert shown["revision"] == 2 and shown["source"] == "speed"
    assert shown["plot"]["high"] == (third.high + 10**8) / 10**8
    revisions = {b["window_start_us"]: b["revision"] for b in bars if b["revision"]}
    assert revisions == {third.window_start_us: 2, REVISED_WINDOW_US: 1}  # the rest: 0
    assert len(bars) == 240


def test_an_archived_window_is_served_as_its_latest_revision(client: TestClient) -> None:
    bars = get(client, "/candles", symbol=SYMBOL, interval="1s",
               **{"from": "2026-01-02T00:00:06Z", "to": "2026-01-02T00:00:09Z"})["bars"]
    assert [(b["window_start_us"], b["revision"]) for b in bars] == [
        (REVISED_WINDOW_US - ONE_S, 0), (REVISED_WINDOW_US, 1), (REVISED_WINDOW_US + ONE_S, 0)]
    archived = next(c for c in candles_from_trades(trades(DAY2_US, 120), ["1s"])
                    if c.window_start_us == REVISED_WINDOW_US)
    assert bars[1]["plot"]["high"] == (archived.high + 10**8) / 10**8  # the revised value
    assert bars[1]["trade_count"] == archived.trade_count


def test_symbols_status_health_metrics_and_openapi(client: TestClient) -> None:
    assert get(client, "/symbols") == {"symbols": [SYMBOL], "intervals": list(
        client.app.state.services.settings.intervals)}  # type: ignore[attr-defined]
    status = get(client, "/status")
    assert status["last_verdict"] == {"date": DAY1, "verdict": "breach", "breached": 1,
                                      "unexplained": 0}
    assert get(client, "/healthz")["status"] == "ok"
    metrics = client.get("/metrics").text
    assert 'candles_serve_requests_total{endpoint="/candles",status="200"}' in metrics
    schema = get(client, "/openapi.json")
    assert {"/candles", "/drift", "/symbols", "/stream", "/healthz"} <= set(schema["paths"])
    assert "revision" in schema["components"]["schemas"]["BarOut"]["required"]


def test_the_page_and_its_vendored_chart_library_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    script = client.get("/static/vendor/lightweight-charts.standalone.production.js")
    assert script.status_code == 200 and "Apache License 2.0" in script.text[:400]
    assert (STATIC / "vendor" / "LICENSE-lightweight-charts").is_file()


def test_the_vendored_file_matches_its_recorded_integrity() -> None:
    record = json.loads((VENDOR_DIR / RECORD_NAME).read_text())
    data = (VENDOR_DIR / record["file"]).read_bytes()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert record["file_integrity"] == f"sha512-{digest}"
    assert record["tarball_integrity"].startswith("sha512-") and record["version"]
    assert Path(VENDOR_DIR / record["file"]).stat().st_size > 100_000
