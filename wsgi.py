"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

from website.app import create_app

app = create_app()
