// Package gateway is wsgispec's reference WSGI server: Go's net/http in front, CPython embedded.
package gateway

/*
#cgo pkg-config: python3
#include <Python.h>
*/
import "C"

import python3 "github.com/go-python/cpy3"

var _ = python3.Py_IsInitialized
