// Package hostile is an HTTP server that misbehaves on purpose, for testing that wsgispec's
// clients stay bounded in bytes and time whatever a server sends. It answers GET / properly (so
// that wsgispec's start-up check, which only waits for an HTTP answer, sees a server that is up)
// and every other request in the way its Mode says. Tests start it like any user's server,
// through --server-cmd.
package hostile

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"
)

// Mode is one way of misbehaving.
type Mode string

const (
	EndlessChunked Mode = "endless-chunked" // a chunked body that never ends
	HugeLength     Mode = "huge-length"     // Content-Length of a petabyte, and bytes without end
	EndlessHeaders Mode = "endless-headers" // header lines without end
	Drip           Mode = "drip"            // a small valid response, one byte a second
	Garbage        Mode = "garbage"         // bytes without end that are no status line
	ResetMidBody   Mode = "reset-mid-body"  // half of a 1 MiB body, then a TCP reset
	NoRead         Mode = "no-read"         // reads the request line only, never the rest; never answers
	Silent         Mode = "silent"          // reads every request, never answers
	WrongAnswer    Mode = "wrong-answer"    // answers each request with another request's response, and one more unasked
)

// Modes lists every mode.
var Modes = []Mode{EndlessChunked, HugeLength, EndlessHeaders, Drip, Garbage, ResetMidBody, NoRead, Silent, WrongAnswer}

// ParseMode returns the named mode.
func ParseMode(name string) (Mode, error) {
	if m := Mode(name); slices.Contains(Modes, m) {
		return m, nil
	}
	var names []string
	for _, m := range Modes {
		names = append(names, string(m))
	}
	return "", fmt.Errorf("unknown mode %q (modes: %s)", name, strings.Join(names, ", "))
}

// hold is the longest the server keeps a connection it does not answer; the clients under test
// give up long before.
const hold = 2 * time.Minute

// Serve accepts connections on ln and misbehaves on each as mode says, until ln is closed.
func Serve(ln net.Listener, mode Mode) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(hold))
			serveConn(c.(*net.TCPConn), mode)
		}()
	}
}

// ready is the answer to GET /.
const ready = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"

func serveConn(c *net.TCPConn, mode Mode) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if mode == NoRead {
			if isReadyCheck(line) {
				io.WriteString(c, ready)
				return
			}
			time.Sleep(hold) // the request's headers and body stay unread in the socket
			return
		}
		length, err := readHead(r)
		if err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, r, length); err != nil {
			return
		}
		if isReadyCheck(line) {
			io.WriteString(c, ready)
			return
		}
		if !misbehave(c, mode) {
			return
		}
	}
}

func isReadyCheck(requestLine string) bool { return strings.HasPrefix(requestLine, "GET / ") }

// readHead reads the rest of a request head and returns its Content-Length (chunked request
// bodies are not supported: wsgispec's clients do not send them to this server's tests).
func readHead(r *bufio.Reader) (int64, error) {
	var length int64
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return length, nil
		}
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			fmt.Sscan(strings.TrimSpace(value), &length)
		}
	}
}

// misbehave answers one request (already read) as mode says; it returns whether to read the
// next request on the connection.
func misbehave(c *net.TCPConn, mode Mode) bool {
	switch mode {
	case EndlessChunked:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
		chunk := fmt.Sprintf("40000\r\n%s\r\n", strings.Repeat("x", 0x40000))
		endless(c, chunk)
	case HugeLength:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000000000\r\n\r\n")
		endless(c, strings.Repeat("x", 256<<10))
	case EndlessHeaders:
		io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		endless(c, "X-Hostile: "+strings.Repeat("h", 100)+"\r\n")
	case Garbage:
		endless(c, strings.Repeat("garbage-", 2<<10))
	case Drip:
		for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, drip\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return false
			}
			time.Sleep(time.Second)
		}
	case ResetMidBody:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n")
		c.Write(make([]byte, 512<<10))
		c.SetLinger(0) // close with RST
	case Silent:
		return true // read the next request, if any; answer nothing
	case WrongAnswer:
		body := `{"id": 7, "title": "the answer to another request"}` + "\n"
		other := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		io.WriteString(c, other+other) // the second answers nothing: the next request reads it
		return true
	}
	return false
}

// endless writes s over and over until the client stops reading or the hold ends.
func endless(c *net.TCPConn, s string) {
	block := []byte(s)
	for {
		if _, err := c.Write(block); err != nil {
			return
		}
	}
}
