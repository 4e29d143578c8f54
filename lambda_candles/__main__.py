"""``python -m lambda_candles`` runs the ``candles`` CLI."""

from lambda_candles.cli import main

main()
