"""Test configuration: the real-broker fixtures live in ``tests/kafka_fixture.py``."""

pytest_plugins = ["tests.kafka_fixture"]
