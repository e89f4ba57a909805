package hostile

import (
	"fmt"
	"net"
	"os"
	"testing"
)

// TestMain lets the test binary be the hostile server itself (`hostile-serve MODE HOST:PORT`),
// which the tests give wsgispec as a --server-cmd.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "hostile-serve":
			os.Exit(serveMain(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

// serveMain runs the server: MODE HOST:PORT, and any further words (tags that let a test find
// its processes), until it is killed.
func serveMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: hostile-serve MODE HOST:PORT [TAG...]")
		return 2
	}
	mode, err := ParseMode(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Fprintf(os.Stderr, "hostile server (%s) on %s\n", mode, ln.Addr())
	Serve(ln, mode)
	return 0
}
