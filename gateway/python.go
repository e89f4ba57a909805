//go:build cgo && gateway

package gateway

/*
#cgo pkg-config: python3
#include "wsgi.h"
#include <stdlib.h>
*/
import "C"

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	python3 "github.com/go-python/cpy3"
)

// PythonExecutable is the interpreter whose installation the embedded CPython uses: its
// standard library and Debian's dist-packages (Flask, Django, ...) are found from this path.
const PythonExecutable = "/usr/bin/python3"

//go:embed boot.py
var bootSource string

// The process has one embedded CPython; interpreters are numbered slots in the C half.
var (
	pyOnce   sync.Once
	pyErr    error
	slotMu   sync.Mutex
	slotUsed [C.WSGI_MAX_INTERP]bool
)

// startPython initialises CPython once per process. Py_InitializeEx(0) leaves signal handling
// to Go; the GIL is released at the end so request goroutines can take it.
func startPython() error {
	pyOnce.Do(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		setAppTimerSlack()
		C.wsgi_use_app_timer_slack()
		if err := python3.Py_SetProgramName(PythonExecutable); err != nil {
			pyErr = err
			return
		}
		python3.Py_InitializeEx(false)
		if !python3.Py_IsInitialized() || C.wsgi_runtime_init() != 0 {
			pyErr = errors.New("gateway: the Python runtime could not be initialised")
			return
		}
		slotUsed[0] = true
		if C.wsgi_interp_main(0) != 0 {
			pyErr = fmt.Errorf("gateway: main interpreter: %s", pendingTraceback())
		}
		C.wsgi_leave()
	})
	return pyErr
}

func allocSlot() (int, error) {
	slotMu.Lock()
	defer slotMu.Unlock()
	for i := 1; i < len(slotUsed); i++ {
		if !slotUsed[i] {
			slotUsed[i] = true
			return i, nil
		}
	}
	return 0, fmt.Errorf("gateway: more than %d interpreters", len(slotUsed)-1)
}

func freeSlot(i int) {
	slotMu.Lock()
	slotUsed[i] = false
	slotMu.Unlock()
}

// pendingTraceback formats and clears the current Python exception. GIL held.
func pendingTraceback() string {
	var n C.size_t
	p := C.wsgi_format_exception(&n)
	defer C.free(unsafe.Pointer(p))
	return C.GoStringN(p, C.int(n))
}

// interpreter is one loaded application: the interpreter it lives in and its WSGI callable
// (for ASGI apps, the adapter around them).
type interpreter struct {
	slot     int
	sub      bool
	callable *C.PyObject
}

// loadError is an application that failed to import; its traceback is shown in debug mode.
type loadError struct {
	app       string
	traceback string
}

func (e *loadError) Error() string {
	return fmt.Sprintf("app %s could not be loaded:\n%s", e.app, e.traceback)
}

// load creates the app's interpreter (a new sub-interpreter unless it runs in the main one)
// and imports the app into it through boot.py.
func load(app *AppConfig, asgiDir string, baseEnv map[string]string) (*interpreter, error) {
	if err := startPython(); err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.wsgi_use_app_timer_slack() // the app's import may start threads, which inherit it
	in := &interpreter{sub: app.Interpreter != InterpreterMain}
	if in.sub {
		slot, err := allocSlot()
		if err != nil {
			return nil, err
		}
		in.slot = slot
		var cerr *C.char
		if C.wsgi_interp_new(C.int(slot), &cerr) != 0 {
			msg := C.GoString(cerr)
			C.free(unsafe.Pointer(cerr))
			C.wsgi_leave()
			return nil, fmt.Errorf("gateway: app %s: new interpreter: %s", app.Name, msg)
		}
	} else {
		C.wsgi_enter(0)
	}
	defer C.wsgi_leave()

	boot, err := bootModule()
	if err != nil {
		return nil, &loadError{app.Name, err.Error()}
	}
	defer boot.DecRef()
	var base *python3.PyObject = python3.Py_None
	if in.sub {
		base = stringDict(baseEnv)
		defer base.DecRef()
	}
	appEnv := stringDict(app.Env)
	defer appEnv.DecRef()
	args := []*python3.PyObject{
		python3.PyUnicode_FromString(app.Dir), python3.PyUnicode_FromString(app.Module),
		python3.PyUnicode_FromString(app.Callable), python3.PyUnicode_FromString(app.Protocol),
		python3.PyUnicode_FromString(asgiDir),
	}
	loadFn := boot.GetAttrString("load")
	obj := loadFn.CallFunctionObjArgs(append(args, base, appEnv)...)
	loadFn.DecRef()
	for _, a := range args {
		a.DecRef()
	}
	if obj == nil {
		return in, &loadError{app.Name, pendingTraceback()}
	}
	in.callable = (*C.PyObject)(unsafe.Pointer(obj))
	return in, nil
}

// bootModule executes boot.py as a fresh module in the current interpreter. GIL held.
func bootModule() (*python3.PyObject, error) {
	builtins := python3.PyImport_ImportModule("builtins")
	if builtins == nil {
		return nil, errors.New(pendingTraceback())
	}
	defer builtins.DecRef()
	compile := builtins.GetAttrString("compile")
	defer compile.DecRef()
	src := python3.PyUnicode_FromString(bootSource)
	name := python3.PyUnicode_FromString("<wsgispec gateway boot.py>")
	mode := python3.PyUnicode_FromString("exec")
	code := compile.CallFunctionObjArgs(src, name, mode)
	src.DecRef()
	name.DecRef()
	mode.DecRef()
	if code == nil {
		return nil, errors.New(pendingTraceback())
	}
	defer code.DecRef()
	mod := python3.PyImport_ExecCodeModule("_wsgispec_boot", code)
	if mod == nil {
		return nil, errors.New(pendingTraceback())
	}
	return mod, nil
}

func stringDict(m map[string]string) *python3.PyObject {
	d := python3.PyDict_New()
	for k, v := range m {
		val := python3.PyUnicode_FromString(v)
		python3.PyDict_SetItemString(d, k, val)
		val.DecRef()
	}
	return d
}

// unload runs the app's shutdown (the ASGI lifespan's), drops it and ends its sub-interpreter.
// Reports whether the interpreter had to be abandoned because threads the app started in it
// were still running.
func (in *interpreter) unload() (abandoned bool, shutdownErr error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.wsgi_enter(C.int(in.slot))
	if in.callable != nil {
		if boot, err := bootModule(); err != nil {
			shutdownErr = err
		} else {
			fn := boot.GetAttrString("shutdown")
			app := (*python3.PyObject)(unsafe.Pointer(in.callable))
			ending := python3.PyBool_FromLong(boolInt(in.sub))
			rc := fn.CallFunctionObjArgs(app, ending)
			ending.DecRef()
			if rc == nil {
				shutdownErr = errors.New(pendingTraceback())
			} else {
				rc.DecRef()
			}
			fn.DecRef()
			boot.DecRef()
			app.DecRef()
		}
		in.callable = nil
	}
	C.wsgi_leave()
	if !in.sub {
		return false, shutdownErr
	}
	abandoned = C.wsgi_interp_end(C.int(in.slot)) != 0
	freeSlot(in.slot)
	return abandoned, shutdownErr
}

// processEnviron is the environment the gateway was started with, which every sub-interpreter
// starts from (Go's copy: Python's os.environ changes never reach it).
func processEnviron() map[string]string {
	env := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
