"""``candles klines check``: an exchange's published klines against our batch candles.

``kline_file`` reads Binance's 12-column klines (csv or zip), ``compare`` decides kline by
kline (pure), ``check`` finds the batch candles of the same windows in the master
dataset, and ``render`` prints what a person needs to act on. The walkthrough is in
docs/sources.md.
"""
