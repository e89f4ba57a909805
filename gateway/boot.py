"""Loads one application into the interpreter this module runs in.

The gateway executes this file in every interpreter it creates (one per app, or the main one) and
calls load() once; shutdown() runs when the app is unloaded (gateway stop or debug reload).
"""
import importlib
import os
import sys


def load(app_dir, module, callable_name, protocol, asgi_dir, base_environ, app_environ):
    if base_environ is not None:
        # A sub-interpreter's os.environ is a copy of the process environment taken when it was
        # created, so it would inherit what earlier apps set (Django's DJANGO_SETTINGS_MODULE
        # above all). Start each app from the environment the gateway itself was started with,
        # changing only this interpreter's view: the process environment is left alone.
        data = os.environ._data
        data.clear()
        for key, value in base_environ.items():
            data[os.environ.encodekey(key)] = os.environ.encodevalue(value)
    for key, value in app_environ.items():
        os.environ[key] = value
    if not sys.argv or not sys.argv[0]:
        sys.argv = ["wsgispec"]
    sys.path.insert(0, app_dir)
    obj = getattr(importlib.import_module(module), callable_name, None)
    if obj is None:
        raise AttributeError(f"module {module!r} (from {app_dir}) has no attribute {callable_name!r}")
    if not callable(obj):
        raise TypeError(f"{module}:{callable_name} is a {type(obj).__name__}, not a callable")
    if protocol == "asgi":
        sys.path.insert(1, asgi_dir)
        from wsgispec_asgi import ASGIAdapter

        obj = ASGIAdapter(obj)
        obj.startup()
    return obj


def shutdown(app, ending_interpreter):
    stop = getattr(app, "shutdown", None)
    if stop is not None:
        stop()
    if ending_interpreter and "threading" in sys.modules:
        # Ending an interpreter runs threading._shutdown, which expects the thread that first
        # imported threading to be alive. That was one of the gateway's request threads, whose
        # state the gateway deletes first. The gateway only ends an interpreter in which no
        # thread of the app's own is left, so there is nothing for _shutdown to wait for.
        sys.modules["threading"]._shutdown = lambda: None
