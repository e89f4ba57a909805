//go:build cgo && gateway

package gateway

/*
#include "wsgi.h"
*/
import "C"

import (
	"encoding/binary"
	"net"
	"net/http"
	"strings"
)

// knownKeys maps the environ keys the C half holds as ready-made str objects to their ids.
var knownKeys = map[string]uint16{
	"REQUEST_METHOD": C.K_REQUEST_METHOD, "SCRIPT_NAME": C.K_SCRIPT_NAME, "PATH_INFO": C.K_PATH_INFO,
	"QUERY_STRING": C.K_QUERY_STRING, "CONTENT_TYPE": C.K_CONTENT_TYPE, "CONTENT_LENGTH": C.K_CONTENT_LENGTH,
	"SERVER_NAME": C.K_SERVER_NAME, "SERVER_PORT": C.K_SERVER_PORT, "SERVER_PROTOCOL": C.K_SERVER_PROTOCOL,
	"REMOTE_ADDR": C.K_REMOTE_ADDR, "REMOTE_PORT": C.K_REMOTE_PORT, "REQUEST_URI": C.K_REQUEST_URI,
	"SERVER_SOFTWARE": C.K_SERVER_SOFTWARE, "HTTPS": C.K_HTTPS,
	"HTTP_HOST": C.K_HTTP_HOST, "HTTP_USER_AGENT": C.K_HTTP_USER_AGENT, "HTTP_ACCEPT": C.K_HTTP_ACCEPT,
	"HTTP_ACCEPT_ENCODING": C.K_HTTP_ACCEPT_ENCODING, "HTTP_ACCEPT_LANGUAGE": C.K_HTTP_ACCEPT_LANGUAGE,
	"HTTP_CONNECTION": C.K_HTTP_CONNECTION, "HTTP_COOKIE": C.K_HTTP_COOKIE,
	"HTTP_TRANSFER_ENCODING": C.K_HTTP_TRANSFER_ENCODING, "HTTP_CACHE_CONTROL": C.K_HTTP_CACHE_CONTROL,
	"HTTP_REFERER": C.K_HTTP_REFERER, "HTTP_ORIGIN": C.K_HTTP_ORIGIN, "HTTP_AUTHORIZATION": C.K_HTTP_AUTHORIZATION,
	"HTTP_IF_NONE_MATCH": C.K_HTTP_IF_NONE_MATCH, "HTTP_IF_MODIFIED_SINCE": C.K_HTTP_IF_MODIFIED_SINCE,
	"HTTP_X_FORWARDED_FOR": C.K_HTTP_X_FORWARDED_FOR, "HTTP_X_FORWARDED_PROTO": C.K_HTTP_X_FORWARDED_PROTO,
	"HTTP_EXPECT": C.K_HTTP_EXPECT,
}

// headerKeys caches the environ key of each canonical request header name seen so far (the
// common ones are filled at start; the map is read-only after init for lock-free lookups).
var headerKeys = func() map[string]string {
	m := make(map[string]string)
	for k := range knownKeys {
		if name, ok := strings.CutPrefix(k, "HTTP_"); ok {
			m[http.CanonicalHeaderKey(strings.ReplaceAll(name, "_", "-"))] = k
		}
	}
	return m
}()

// environ packs one request's CGI variables for the C half (see build_environ in wsgi.c):
// strings travel as the raw bytes Go received, and C decodes them as latin-1, so non-ASCII path
// and header bytes reach the app exactly as PEP 3333 says.
type environ struct{ buf []byte }

func (e *environ) add(key, value string) {
	if id, ok := knownKeys[key]; ok {
		e.buf = binary.NativeEndian.AppendUint16(e.buf, id)
	} else {
		e.buf = binary.NativeEndian.AppendUint16(e.buf, C.WSGI_KEY_LITERAL)
		e.buf = binary.NativeEndian.AppendUint16(e.buf, uint16(len(key)))
		e.buf = append(e.buf, key...)
	}
	e.buf = binary.NativeEndian.AppendUint32(e.buf, uint32(len(value)))
	e.buf = append(e.buf, value...)
}

// connInfo is what the environ needs from the connection, worked out once per connection.
type connInfo struct {
	conn                   *countingConn
	serverName, serverPort string
	remoteAddr, remotePort string
	https                  bool
}

func newConnInfo(c *countingConn, https bool) *connInfo {
	ci := &connInfo{conn: c, https: https}
	ci.serverName, ci.serverPort, _ = net.SplitHostPort(c.LocalAddr().String())
	ci.remoteAddr, ci.remotePort, _ = net.SplitHostPort(c.RemoteAddr().String())
	return ci
}

// buildEnviron fills e for r, with scriptName/pathInfo already split by the app's mount.
// remoteAddr is the client's address (a trusted proxy's X-Forwarded-For, or the peer's) and https
// whether it used TLS.
func (e *environ) build(r *http.Request, ci *connInfo, scriptName, pathInfo, software, remoteAddr string, https bool) {
	e.add("REQUEST_METHOD", r.Method)
	e.add("SCRIPT_NAME", scriptName)
	e.add("PATH_INFO", pathInfo)
	e.add("QUERY_STRING", r.URL.RawQuery)
	e.add("REQUEST_URI", r.RequestURI)
	e.add("SERVER_PROTOCOL", r.Proto)
	e.add("SERVER_NAME", ci.serverName)
	e.add("SERVER_PORT", ci.serverPort)
	e.add("REMOTE_ADDR", remoteAddr)
	e.add("REMOTE_PORT", ci.remotePort)
	e.add("SERVER_SOFTWARE", software)
	if https {
		e.add("HTTPS", "on")
	}
	if r.Host != "" {
		e.add("HTTP_HOST", r.Host)
	}
	if len(r.TransferEncoding) > 0 {
		e.add("HTTP_TRANSFER_ENCODING", strings.Join(r.TransferEncoding, ", "))
	}
	for name, values := range r.Header {
		switch name {
		case "Content-Type":
			e.add("CONTENT_TYPE", values[0])
			continue
		case "Content-Length":
			if len(r.TransferEncoding) == 0 {
				e.add("CONTENT_LENGTH", values[0])
			}
			continue
		}
		// Foo_Bar and Foo-Bar would both become HTTP_FOO_BAR; a client could then smuggle a
		// value past a proxy that checked only one spelling. Names with "_" are dropped.
		if strings.IndexByte(name, '_') >= 0 {
			continue
		}
		key, ok := headerKeys[name]
		if !ok {
			key = "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		}
		sep := ", "
		if name == "Cookie" {
			sep = "; " // RFC 6265: cookie-pairs are separated by "; ", never ","
		}
		e.add(key, strings.Join(values, sep))
	}
}
