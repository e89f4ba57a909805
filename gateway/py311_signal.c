//go:build cgo && gateway

// Python 3.11 declares PySignal_SetWakeupFd in its headers but does not export it from
// libpython, and cpy3 v0.2.0 wraps it, so the link needs a definition. wsgispec starts Python
// with Py_InitializeEx(0) and leaves signals to Go, so there is never a wakeup fd to set; this
// reports "none was set", as CPython does when no fd was installed.
#include <Python.h>

int PySignal_SetWakeupFd(int fd) {
    (void)fd;
    return -1;
}
