"""The probe: one WSGI callable that routes by PATH_INFO to every behaviour the conformance specs need."""
