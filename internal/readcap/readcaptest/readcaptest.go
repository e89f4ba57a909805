// Package readcaptest serves the endless responses that each client's cap tests read: a
// response that goes past one cap of readcap.Limits and would never end by itself.
package readcaptest

import (
	"io"
	"net"
	"strings"
	"testing"

	"github.com/wsgispec/wsgispec/internal/readcap"
)

// Endless is a response: Head once, then Repeat without end; reading it must stop at Cap.
type Endless struct {
	Name, Head, Repeat, Cap string
}

// Responses are the endless responses every HTTP client of wsgispec must survive.
var Responses = []Endless{
	{"garbage instead of a status line", "", "garbage", readcap.StatusLine},
	{"endless header bytes", "HTTP/1.1 200 OK\r\nX-Long: ", "a", readcap.Head},
	{"endless header lines", "HTTP/1.1 200 OK\r\n", "A: b\r\n", readcap.Fields},
	{"endless chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nabcde\r\n", readcap.Body},
	{"huge Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000\r\n\r\n", "x", readcap.Body},
	{"endless close-delimited body", "HTTP/1.1 200 OK\r\n\r\n", "x", readcap.Body},
}

// Serve accepts one connection on a free loopback port, discards what the client sends, and
// writes head and then repeat over and over until the client goes. It returns host:port.
func Serve(t testing.TB, head, repeat string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		go io.Copy(io.Discard, c)
		block := []byte(strings.Repeat(repeat, max(1, (32<<10)/len(repeat))))
		if _, err := io.WriteString(c, head); err != nil {
			return
		}
		for {
			if _, err := c.Write(block); err != nil {
				return
			}
		}
	}()
	return ln.Addr().String()
}
