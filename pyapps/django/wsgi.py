"""WSGI entry: `application` is the Django project, served as `wsgi:application` from this directory."""

import os
import sys

_APP_DIR = os.path.dirname(os.path.abspath(__file__))
if _APP_DIR not in sys.path:
    sys.path.insert(0, _APP_DIR)

# Assigned, not setdefault(): os.environ is shared by every sub-interpreter of a process (mod_wsgi,
# the wsgispec gateway), so another Django project loaded beside this one may have set it already.
os.environ["DJANGO_SETTINGS_MODULE"] = "djangoproject.settings"

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
