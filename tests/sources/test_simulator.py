"""The simulator: determinism, realistic and exact trades, wire forms, arrival order."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest

from candle_core.fixed_point import PRICE_SCALE, SIZE_SCALE
from candle_core.parsing import SYMBOL_PATTERN, TradeParser
from candle_core.trade import Trade
from sources.chaos import ChaosRates
from sources.labels import Label
from sources.simulator import SimulationConfig, simulate, simulate_records
from sources.symbols import DEFAULT_UNIVERSE, make_universe

START_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
PARSER = TradeParser(max_future_skew_us=5_000_000)
TICKS = {spec.symbol: spec.tick for spec in DEFAULT_UNIVERSE}
LOTS = {spec.symbol: spec.lot for spec in DEFAULT_UNIVERSE}


def _config(**changes: object) -> SimulationConfig:
    fields: dict[str, object] = {"trades": 20_000, "start_us": START_US, "seed": 7}
    fields.update(changes)
    return SimulationConfig(**fields)  # type: ignore[arg-type]


def _stream(config: SimulationConfig) -> list[tuple[bytes, bytes, int]]:
    return [tuple(record) for batch in simulate(config) for record in batch.records()]  # type: ignore[misc]


@pytest.fixture(scope="module")
def clean_trades() -> list[tuple[Trade, int]]:
    """(trade, arrival) of a clean 20k-trade run, in arrival order."""
    pairs = simulate_records(_config())
    parsed = [(PARSER.parse(r.value, kafka_ts_us=r.timestamp_us), r.timestamp_us)
              for r, _ in pairs]
    assert all(isinstance(trade, Trade) for trade, _ in parsed)
    return parsed  # type: ignore[return-value]


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    chaos = ChaosRates(0.01, 0.01, 0.01, 0.01, 0.01, 0.01)
    first = _stream(_config(chaos=chaos))
    assert first == _stream(_config(chaos=chaos))
    assert first != _stream(_config(chaos=chaos, seed=8))


def test_chunking_is_part_of_the_stream_but_order_holds_across_chunks() -> None:
    # Small chunks force records to wait for a later chunk; arrival order must still hold.
    records = _stream(_config(chunk_trades=1_000, chaos=ChaosRates(late=0.05, future=0.05)))
    stamps = [stamp for _, _, stamp in records]
    assert stamps == sorted(stamps)
    assert len(records) == 20_000


def test_trade_ids_strictly_increase_per_symbol_in_event_order(
    clean_trades: list[tuple[Trade, int]],
) -> None:
    by_symbol: dict[str, list[Trade]] = defaultdict(list)
    for trade, _ in clean_trades:
        by_symbol[trade.symbol].append(trade)
    assert set(by_symbol) == set(TICKS)
    for trades in by_symbol.values():
        in_event_order = sorted(trades, key=lambda t: (t.ts_us, t.trade_id))
        ids = [t.trade_id for t in in_event_order]
        assert ids == sorted(set(ids))
        assert ids[-1] - ids[0] + 1 == len(ids)  # no gaps without chaos


def test_prices_positive_on_ticks_and_sizes_whole_lots(
    clean_trades: list[tuple[Trade, int]],
) -> None:
    for trade, _ in clean_trades:
        assert trade.price > 0 and trade.price % TICKS[trade.symbol] == 0
        assert trade.size > 0 and trade.size % LOTS[trade.symbol] == 0


def test_price_levels_are_realistic(clean_trades: list[tuple[Trade, int]]) -> None:
    shib = [t.price for t, _ in clean_trades if t.symbol == "SHIBUSDT"]
    btc = [t.price for t, _ in clean_trades if t.symbol == "BTCUSDT"]
    assert max(shib) < PRICE_SCALE // 100  # sub-cent
    assert min(btc) > 50_000 * PRICE_SCALE and max(btc) < 200_000 * PRICE_SCALE


def test_arrival_after_event_ms_aligned_and_in_order(
    clean_trades: list[tuple[Trade, int]],
) -> None:
    arrivals = [arrival for _, arrival in clean_trades]
    assert arrivals == sorted(arrivals)
    for trade, arrival in clean_trades:
        assert arrival % 1_000 == 0
        assert 1_000 <= arrival - trade.ts_us <= 52_000


def test_wire_is_to_wire_plus_recv_ts_in_both_forms() -> None:
    forms = {"number": 0, "string": 0}
    for record, _ in simulate_records(_config(trades=2_000)):
        wire = json.loads(record.value, parse_float=Decimal, parse_int=Decimal)
        trade = PARSER.parse(record.value)
        assert isinstance(trade, Trade)
        assert record.key == trade.symbol.encode()
        assert int(wire.pop("recv_ts")) == record.timestamp_us
        kind = "string" if isinstance(wire["price"], str) else "number"
        forms[kind] += 1
        expected = trade.to_wire()
        assert list(wire) == list(expected)
        assert {k: str(v) for k, v in wire.items()} == {k: str(v) for k, v in expected.items()}
    assert forms["number"] > 0 and forms["string"] > 0


def test_sizes_exact_decimal_of_lots() -> None:
    for record, _ in simulate_records(_config(trades=500)):
        trade = PARSER.parse(record.value)
        assert isinstance(trade, Trade)
        wire = json.loads(record.value, parse_float=Decimal, parse_int=Decimal)
        assert Decimal(str(wire["size"])) * SIZE_SCALE == trade.size


def test_more_symbols_than_the_default_universe_are_well_formed() -> None:
    import numpy as np

    universe = make_universe(40, np.random.default_rng(1))
    assert len({spec.symbol for spec in universe}) == 40
    for spec in universe:
        assert SYMBOL_PATTERN.fullmatch(spec.symbol)
        assert spec.price > 0 and spec.price % spec.tick == 0
    labels = {truth.label for _, truth in simulate_records(_config(trades=2_000, symbols=40))}
    assert labels == {Label.CLEAN}


def test_bursts_change_the_arrival_rate() -> None:
    pairs = simulate_records(_config(trades=100_000, rate_per_s=1_000.0))
    per_second: dict[int, int] = defaultdict(int)
    for record, _ in pairs:
        per_second[record.timestamp_us // 1_000_000] += 1
    busiest, quietest = max(per_second.values()), min(list(per_second.values())[1:-1])
    assert busiest > 4 * quietest  # a regime-switching rate, not a flat Poisson one
