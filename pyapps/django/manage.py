#!/usr/bin/env python3
"""Django's command-line utility for this project (e.g. `makemigrations blog`); needs WSGISPEC_DB."""

import os
import sys

if __name__ == "__main__":
    os.environ["DJANGO_SETTINGS_MODULE"] = "djangoproject.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
