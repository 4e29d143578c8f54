"""The data: preload the simulated trades, describe them, and check (b)'s candles against
the contract's reference candles."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from typing import Any

from bench.speed.context import Bench
from bench.speed.late import Delayer, check_revised, check_unrevised, reference_without_late


def preload(bench: Bench) -> None:
    """Simulate the trades, produce them, parse them (for the reference) as the layer does."""
    import numpy as np

    from candle_core.message_kind import non_trade_kind
    from candle_core.parsing import TradeParser
    from candle_core.reference import candles_from_trades
    from kafka_ops.clients import producer_config
    from sources.noise import add_noise
    from sources.producer import KafkaSink
    from sources.records import kafka_timestamp_ms
    from sources.simulator import SimulationConfig, simulate

    args, settings = bench.args, bench.settings(f"{bench.run_id}.preload")
    bench.create_topics(settings, extra=[bench.quix_topic])
    start_us = (int(time.time()) // 3600 - 1) * 3_600_000_000  # last hour: same windows
    rate = args.event_rate if args.trades_per_symbol_second is None \
        else args.symbols * args.trades_per_symbol_second
    config = SimulationConfig(trades=args.trades, start_us=start_us, seed=args.seed,
                              symbols=args.symbols, rate_per_s=rate,
                              allowed_lateness_us=settings.allowed_lateness_us,
                              max_future_skew_us=settings.max_future_skew_us)
    conf = producer_config(settings, bench.bootstrap)
    sink, quix_sink = KafkaSink(conf, bench.trades_topic), KafkaSink(conf, bench.quix_topic)
    parser, began = TradeParser(settings.max_future_skew_us), time.perf_counter()
    rng, noise_id, messages = np.random.default_rng([args.seed, 98]), 0, 0
    spoil = random.Random(args.seed)
    delayer = Delayer(args.late_ratio, args.late_delay_s, args.seed)

    def parse(record: Any) -> Any:
        trade = parser.parse(record.value, kafka_timestamp_ms(record.timestamp_us) * 1000)
        if not hasattr(trade, "ts_us"):
            raise SystemExit(f"the simulator made an invalid trade: {trade}")
        return trade

    for trades_only in simulate(config):
        batch = add_noise(trades_only, args.noise_ratio, rng, noise_id)
        noise_id += len(batch) - len(trades_only)
        for record in batch.records():
            if args.invalid_ratio and non_trade_kind(record.value) is None \
                    and spoil.random() < args.invalid_ratio:
                sink.send(invalid(record, args.invalid_kind, spoil))
                messages += 1
                bench.info["invalid"] = bench.info.get("invalid", 0) + 1
                continue
            if non_trade_kind(record.value) is not None:
                sink.send(record)  # an order or quote: not a trade, not in the reference
                messages += 1
                continue
            trade = parse(record)
            if delayer.hold(record, trade.ts_us):
                continue
            for late in [record, *delayer.due(trade.ts_us, record.timestamp_us)]:
                sink.send(late)
                messages += 1
                if len(bench.trades) < args.quix_trades:
                    quix_sink.send(late)
                bench.trades.append(trade if late is record else parse(late))
                if late is not record:
                    bench.delayed.add((bench.trades[-1].symbol, bench.trades[-1].trade_id))
    if sink.flush(120) or quix_sink.flush(120) or sink.counts.failed or quix_sink.counts.failed:
        raise SystemExit(f"preload failed: {sink.counts} {quix_sink.counts}")
    bench.info["preload_seconds"] = time.perf_counter() - began
    bench.info["messages"], bench.info["noise_ratio"] = messages, args.noise_ratio
    began = time.perf_counter()
    bench.reference = candles_from_trades(bench.trades, settings.intervals_us)
    bench.reference_off = reference_without_late(bench, settings.intervals_us) \
        if bench.delayed else bench.reference
    bench.info["delayed"], bench.info["never_produced"] = len(bench.delayed), len(delayer.held)
    bench.info["reference_seconds"] = time.perf_counter() - began
    describe_data(bench, settings)


def invalid(record: Any, kind: str, spoil: random.Random) -> Any:
    """The record made invalid: stamped an hour before its event time by Kafka (so
    ``future_timestamp``), or for ``mixed`` half the time cut in half (``malformed_json``)."""
    if kind == "mixed" and spoil.random() < 0.5:
        return record._replace(value=record.value[:len(record.value) // 2])
    return record._replace(timestamp_us=record.timestamp_us - 3_600_000_000)


def describe_data(bench: Bench, settings: Any) -> None:
    import confluent_kafka
    from confluent_kafka import Consumer, TopicPartition

    from kafka_ops.clients import consumer_config

    consumer = Consumer(consumer_config(settings, f"{bench.run_id}.probe", bench.bootstrap))
    sizes = [consumer.get_watermark_offsets(TopicPartition(bench.trades_topic, p), timeout=30)[1]
             for p in range(bench.args.partitions)]
    consumer.close()
    per_interval = Counter(c.interval_us for c in bench.reference)
    trades = bench.trades
    quix_slice = trades[:bench.args.quix_trades]
    bench.info.update({
        "partitions_with_data": sum(1 for s in sizes if s), "messages_per_partition": sizes,
        "event_seconds": (trades[-1].ts_us - trades[0].ts_us) / 1e6,
        "reference_candles": {str(k // 1_000_000) + "s": v for k, v in per_interval.items()},
        "trades_per_1s_candle": len(trades) / max(1, per_interval[1_000_000]),
        "symbols": bench.args.symbols, "closed_1s_candles": per_interval[1_000_000],
        "intervals": list(settings.intervals), "allowed_lateness_ms": settings.allowed_lateness_ms,
        "quix_windows": len({(t.symbol, t.ts_us // 1_000_000) for t in quix_slice}),
        "librdkafka": confluent_kafka.libversion()[0], "kafka": kafka_version(),
    })


def kafka_version() -> str:
    """The broker's version if it is the local one this project launches, else unknown."""
    from kafka_ops.maven import DEFAULT_KAFKA_VERSION

    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or os.environ.get(
        "CANDLES_KAFKA_BOOTSTRAP_SERVERS")
    return "external broker" if external else f"Apache Kafka {DEFAULT_KAFKA_VERSION}"


def verify_candles(bench: Bench, settings: Any, summary: dict[str, Any],
                   revisions: bool = True) -> str:
    """Stop the benchmark unless (b) committed exactly the reference's candles (with
    revisions on, their latest revisions; with revisions off, those of the trades not
    delayed), counted every record and dead-lettered every invalid one."""
    from candle_core.codec import decode_candle
    from kafka_ops.reading import read_topic

    candles = [decode_candle(m.value() or b"") for m in read_topic(settings,
                                                                    settings.topic_candles)]
    problems = []
    messages = bench.info.get("messages", len(bench.trades))
    valid = len(bench.trades) - (0 if revisions else len(bench.delayed))
    if summary["consumed"] != messages or summary["valid"] != valid:
        problems.append(f"consumed {summary['consumed']} / valid {summary['valid']}")
    invalid = bench.info.get("invalid", 0)
    if summary["dlq"] != invalid:
        problems.append(f"{summary['dlq']} dead letters for {invalid} invalid records")
    if invalid:
        dead = sum(1 for _ in read_topic(settings, settings.topic_dlq, timeout_s=300))
        if dead != invalid:
            problems.append(f"trades.dlq holds {dead} records, not {invalid}")
    if revisions:
        problems += check_revised(bench, candles, summary)
    else:
        problems += check_unrevised(bench, settings, candles, summary)
    if problems:
        raise SystemExit("WRONG RESULT from candles speed: " + "; ".join(problems))
    dead_text = f", {invalid:,} dead letters == invalid records" if invalid else ""
    keys = len({c.key for c in candles})
    if revisions and bench.delayed:
        return (f"{keys:,} candles, latest revisions == reference ({len(candles) - keys:,} "
                f"revisions from {len(bench.delayed):,} late trades){dead_text}")
    if bench.delayed:
        return (f"{keys:,} candles == reference without the {len(bench.delayed):,} late "
                f"trades, all of them in trades.late{dead_text}")
    return f"{len(candles):,} candles == reference{dead_text}"
