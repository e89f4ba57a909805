//go:build !(cgo && gateway)

package main

import "github.com/wsgispec/wsgispec/internal/version"

// Built without the gateway (no cgo, or no "gateway" build tag): serve says how to get one and
// exits 2.
const gatewayLinked = false

func init() {
	register("serve", "run the reference WSGI gateway (not in this build: see wsgispec serve)", func([]string) int {
		return failer("serve")("this wsgispec was built without the gateway (it needs cgo and -tags gateway); build it with `make build` in a checkout (Debian: python3-dev), or: %s", version.GatewayInstallLine())
	})
}
