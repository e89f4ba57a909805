//go:build !(cgo && gateway)

package gateway

import "testing"

func TestGatewayNeedsCgo(t *testing.T) {
	t.Skip("the gateway embeds CPython through cgo: this build has CGO_ENABLED=0, so its tests do not run (make test runs them)")
}
