/* Forced into every cgo compilation unit (see the Makefile's CGO_CFLAGS).
 *
 * github.com/go-python/cpy3 v0.2.0 was written against Python 3.7 and wraps four functions that
 * Python 3.11 removed. Declaring them here lets cpy3 compile; defining them as no-ops is right for
 * what they did: the free lists they cleared are gone in 3.11, and fork() re-initialisation of
 * threads is done by the interpreter itself (PyOS_AfterFork_Child). wsgispec calls none of them.
 * The guard keeps this out of cgo's assembler passes, which also receive CGO_CFLAGS. */
#ifndef WSGISPEC_PY311_COMPAT_H
#define WSGISPEC_PY311_COMPAT_H
#ifndef __ASSEMBLER__
static inline int PyDict_ClearFreeList(void) { return 0; }
static inline int PyFloat_ClearFreeList(void) { return 0; }
static inline int PyList_ClearFreeList(void) { return 0; }
static inline void PyEval_ReInitThreads(void) {}
#endif
#endif
