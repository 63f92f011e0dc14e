"""The ground floor: what every package stands on and that knows no domain.

Settings, the database and its session, extension objects, the clock and calendar, languages,
logs, security headers, error pages, HTTP caching and rate-limit keys. Nothing here imports
``staff``, ``registry``, ``objection`` or ``website`` (``tests/test_layers.py`` checks it).
"""
