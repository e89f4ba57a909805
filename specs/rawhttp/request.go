package rawhttp

import (
	"bytes"
	"fmt"
)

// Request is a request message sent exactly as given: nothing is added (no Host, no
// Content-Length), so specs can send what a normal client never would.
type Request struct {
	Method string
	Target string // the request-target as it goes on the wire, bytes unescaped
	Proto  string // "HTTP/1.1" when empty
	Header Header
	Body   []byte
}

// Bytes renders the request line, header section and body.
func (r Request) Bytes() []byte {
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\n", r.Method, r.Target, proto)
	for _, f := range r.Header {
		fmt.Fprintf(&b, "%s: %s\r\n", f.Name, f.Value)
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}
