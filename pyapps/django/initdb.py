"""Applies the project's migrations to the SQLite file WSGISPEC_DB names (idempotent) and switches
it to WAL, so that several worker processes can read while one writes. Run from this directory
before the server."""

import os

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "djangoproject.settings"
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

call_command("migrate", interactive=False, verbosity=0)
with connection.cursor() as cursor:
    # WAL is a property of the database file: set once here, it holds for every later connection.
    cursor.execute("PRAGMA journal_mode = WAL")
