"""The serving layer (``candles serve``): batch-verified bars with the speed layer's tail,
over HTTP, as an event stream and as a live chart page. See docs/serving.md."""
