"""Settings of the wsgispec Django project: a JSON API over SQLite, no sessions, admin or templates."""

import os

from django.core.exceptions import ImproperlyConfigured

DATABASE_PATH = os.environ.get("WSGISPEC_DB")
if not DATABASE_PATH:
    raise ImproperlyConfigured("WSGISPEC_DB is not set: it names the SQLite file this app uses (create it with initdb.py)")

# Signs nothing here (no sessions, CSRF tokens or messages), but Django refuses to start without it.
SECRET_KEY = "wsgispec-django-app-signs-nothing"

DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = ["blog"]

# No CsrfViewMiddleware: a JSON API without cookies or sessions has nothing to forge.
MIDDLEWARE = ["djangoproject.middleware.content_length"]

ROOT_URLCONF = "djangoproject.urls"
WSGI_APPLICATION = "wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATABASE_PATH,
        # SQLite's busy timeout: how long a writer waits for another process's write lock.
        "OPTIONS": {"timeout": 30},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# The contract suite posts a 1 MiB content field; Django's default cap is 2.5 MB of request body.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

# With DEBUG off Django sends request errors only to mail_admins; send their tracebacks to stderr,
# which WSGI servers log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
}
