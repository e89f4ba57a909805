package conformance

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/specs/catalog"
	"github.com/wsgispec/wsgispec/specs/rawhttp"
)

// cgiRequest is the request the CGI-variable cases inspect: a POST with a query, a body, a
// Content-Type and a custom header, to a path with an escaped space.
var cgiRequest = request{
	method: "POST",
	path:   "/environ/a%20b/c?x=1&y=%20z%C3%A9",
	header: rawhttp.Header{{Name: "Content-Type", Value: "text/plain; charset=latin-1"}, {Name: "X-Probe-Custom", Value: "custom value"}},
	body:   []byte("hello"),
}

const (
	cgiPathInfo    = "/environ/a b/c"
	cgiQueryString = "x=1&y=%20z%C3%A9"
)

// cgiVariables are RFC 3875's meta-variables (section 4.1), and HTTPS, which servers set in
// CGI's style for TLS: the CGI variables whose values PEP 3333 requires to be str.
var cgiVariables = map[string]bool{
	"AUTH_TYPE": true, "CONTENT_LENGTH": true, "CONTENT_TYPE": true, "GATEWAY_INTERFACE": true,
	"PATH_INFO": true, "PATH_TRANSLATED": true, "QUERY_STRING": true, "REMOTE_ADDR": true,
	"REMOTE_HOST": true, "REMOTE_IDENT": true, "REMOTE_USER": true, "REQUEST_METHOD": true,
	"SCRIPT_NAME": true, "SERVER_NAME": true, "SERVER_PORT": true, "SERVER_PROTOCOL": true,
	"SERVER_SOFTWARE": true, "HTTPS": true,
}

// webServerVariables are variables web servers have long put in a CGI script's environment
// beyond RFC 3875 (Apache's mod_cgi documents them): the "other CGI variables" PEP 3333 asks
// servers to provide where they apply. They are CGI's, not a server's own, so
// environ.server-keys-named leaves them alone; nor does the RFC define them, so
// environ.cgi-values-are-str does too.
var webServerVariables = map[string]bool{
	"REQUEST_URI": true, "REMOTE_PORT": true, "SERVER_ADDR": true, "DOCUMENT_ROOT": true,
	"REQUEST_SCHEME": true, "CONTEXT_PREFIX": true, "CONTEXT_DOCUMENT_ROOT": true,
	"SERVER_ADMIN": true, "SCRIPT_FILENAME": true, "SERVER_SIGNATURE": true, "SCRIPT_URI": true,
	"SCRIPT_URL": true, "UNIQUE_ID": true,
}

// isCGIVariable reports whether key is a CGI variable: one of cgiVariables, or a request
// header's HTTP_ variable.
func isCGIVariable(key string) bool { return cgiVariables[key] || strings.HasPrefix(key, "HTTP_") }

// serverKey is how PEP 3333 asks server-defined keys to be named: lower-case letters, digits,
// dots and underscores, prefixed with a name unique to the server (here: something before a dot).
var serverKey = regexp.MustCompile(`^[a-z0-9_]+\.[a-z0-9._]+$`)

// wantStr fails unless key holds exactly want (as latin-1 bytes).
func wantStr(k *check, d environDump, key, want string) {
	k.expect("%s=%s", key, quoteBytes(want))
	if got, ok := d.str(key); !ok || got != want {
		k.failf("%s", d.show(key))
	}
	k.saw("%s", d.show(key))
}

// wantEmptyOrAbsent fails unless key is absent or the empty string.
func wantEmptyOrAbsent(k *check, d environDump, key string) {
	k.expect("%s absent or \"\"", key)
	if v, present := d.Environ[key]; present {
		if got, ok := d.str(key); !ok || got != "" {
			k.failf("%s=%s", key, v)
		}
	}
	k.saw("%s", d.show(key))
}

// wantNonEmptyStr fails unless key is a non-empty str matching pattern.
func wantNonEmptyStr(k *check, d environDump, key string, pattern *regexp.Regexp) {
	k.expect("%s present, a non-empty str matching %s", key, pattern)
	if got, ok := d.str(key); !ok || got == "" || !pattern.MatchString(got) {
		k.failf("%s", d.show(key))
	}
	k.saw("%s", d.show(key))
}

// wantPresent fails unless key is in environ; methods, when given, must all be callable on it.
func wantPresent(k *check, d environDump, key string, methods ...string) {
	if len(methods) > 0 {
		k.expect("%s present, with %s", key, strings.Join(methods, ", "))
	} else {
		k.expect("%s present", key)
	}
	v, present := d.Environ[key]
	if !present {
		k.failf("%s absent", key)
	}
	if missing := v.hasMethods(methods...); len(missing) > 0 {
		k.failf("%s=%s lacks %s", key, v, strings.Join(missing, ", "))
	}
	k.saw("%s", d.show(key))
}

var anything = regexp.MustCompile(`.`)

var _ = nodes.Describe("environ", func() {
	Describe("the dictionary and the call", func() {
		caseSpec("environ.is-dict", func(k *check) {
			k.expect("type(environ) is dict")
			d, _ := k.environOf(request{path: "/environ"})
			if d.EnvironType != "dict" {
				k.failf("type(environ) is %s", d.EnvironType)
			}
			k.saw("type(environ) is dict")
		})
		caseSpec("environ.positional-arguments", func(k *check) {
			k.expect("application(environ, start_response), no keyword arguments")
			d, _ := k.environOf(request{path: "/environ"})
			if d.CalledByKeyword {
				k.failf("the application was called with keyword arguments")
			}
			k.saw("called with positional arguments")
		})
	})

	DescribeTable("CGI and WSGI variables of a POST with a query, a body and a custom header",
		func(ctx SpecContext, id string, judge func(k *check, d environDump)) {
			k := newCheck(catalog.MustLookup(id))
			d, _ := k.environOf(cgiRequest)
			judge(k, d)
		},
		caseEntry("environ.request-method", func(k *check, d environDump) { wantStr(k, d, "REQUEST_METHOD", "POST") }),
		caseEntry("environ.script-name", func(k *check, d environDump) {
			if target.mount == "" {
				wantEmptyOrAbsent(k, d, "SCRIPT_NAME")
			} else {
				wantStr(k, d, "SCRIPT_NAME", target.mount)
			}
		}),
		caseEntry("environ.path-info", func(k *check, d environDump) { wantStr(k, d, "PATH_INFO", cgiPathInfo) }),
		caseEntry("environ.query-string", func(k *check, d environDump) { wantStr(k, d, "QUERY_STRING", cgiQueryString) }),
		caseEntry("environ.content-type", func(k *check, d environDump) {
			wantStr(k, d, "CONTENT_TYPE", "text/plain; charset=latin-1")
		}),
		caseEntry("environ.content-length", func(k *check, d environDump) { wantStr(k, d, "CONTENT_LENGTH", "5") }),
		caseEntry("environ.server-name", func(k *check, d environDump) { wantNonEmptyStr(k, d, "SERVER_NAME", anything) }),
		caseEntry("environ.server-port", func(k *check, d environDump) {
			wantNonEmptyStr(k, d, "SERVER_PORT", regexp.MustCompile(`^[0-9]+$`))
		}),
		caseEntry("environ.http-variables", func(k *check, d environDump) {
			want := []string{"HTTP_HOST", "HTTP_X_PROBE_CUSTOM"}
			k.expect("exactly %s (HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH tolerated here), HTTP_X_PROBE_CUSTOM=\"custom value\"", strings.Join(want, ", "))
			var got []string
			for _, key := range d.keys("HTTP_") {
				if key != "HTTP_CONTENT_TYPE" && key != "HTTP_CONTENT_LENGTH" {
					got = append(got, key)
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				k.failf("HTTP_ variables: %s", strings.Join(got, ", "))
			}
			if v, _ := d.str("HTTP_X_PROBE_CUSTOM"); v != "custom value" {
				k.failf("%s", d.show("HTTP_X_PROBE_CUSTOM"))
			}
			k.saw("HTTP_ variables: %s", strings.Join(got, ", "))
		}),
		caseEntry("environ.no-http-content-headers", func(k *check, d environDump) {
			k.expect("no HTTP_CONTENT_TYPE, no HTTP_CONTENT_LENGTH (they are CONTENT_TYPE and CONTENT_LENGTH)")
			if got := append(d.keys("HTTP_CONTENT_TYPE"), d.keys("HTTP_CONTENT_LENGTH")...); len(got) > 0 {
				k.failf("environ has %s", strings.Join(got, ", "))
			}
			k.saw("neither is present")
		}),
		caseEntry("environ.remote-addr", func(k *check, d environDump) {
			wantNonEmptyStr(k, d, "REMOTE_ADDR", regexp.MustCompile(`^[0-9a-fA-F.:]+$`))
		}),
		caseEntry("environ.cgi-values-are-str", func(k *check, d environDump) {
			k.expect("every CGI variable present (RFC 3875's meta-variables, HTTP_*, HTTPS) holds a str")
			var wrong, checked []string
			for key, v := range d.Environ {
				if !isCGIVariable(key) {
					continue
				}
				checked = append(checked, key)
				if !v.IsStr {
					wrong = append(wrong, key+" is "+v.String())
				}
			}
			sort.Strings(wrong)
			if len(wrong) > 0 {
				k.failf("%s", strings.Join(wrong, "; "))
			}
			k.saw("all %d CGI variables present hold str", len(checked))
		}),
		caseEntry("environ.server-keys-named", func(k *check, d environDump) {
			k.expect("every key the server defines itself (not a CGI variable, nor one web servers give CGI scripts such as REQUEST_URI, nor wsgi.*, nor in the server process's os.environ) in lower case, digits, dots and underscores, with a prefix before a dot naming the server, like \"myserver.socket\"")
			var wrong, own []string
			for key := range d.Environ {
				if isCGIVariable(key) || webServerVariables[key] || strings.HasPrefix(key, "wsgi.") || d.OSEnviron[key] || strings.HasPrefix(key, "WSGISPEC_") {
					continue
				}
				own = append(own, key)
				if prefix, _, _ := strings.Cut(key, "."); !serverKey.MatchString(key) || prefix == "wsgi" {
					wrong = append(wrong, key)
				}
			}
			sort.Strings(wrong)
			sort.Strings(own)
			if len(wrong) > 0 {
				k.failf("server-defined keys not named so: %s", strings.Join(wrong, ", "))
			}
			if len(own) == 0 {
				k.saw("the server defines no keys of its own")
				return
			}
			k.saw("server-defined keys: %s", strings.Join(own, ", "))
		}),
		caseEntry("environ.wsgi-version", func(k *check, d environDump) {
			k.expect("wsgi.version == (1, 0), a tuple")
			v := d.Environ["wsgi.version"]
			var got []int
			if v.Type != "tuple" || json.Unmarshal(v.JSON, &got) != nil || len(got) != 2 || got[0] != 1 || got[1] != 0 {
				k.failf("%s", d.show("wsgi.version"))
			}
			k.saw("%s", d.show("wsgi.version"))
		}),
		caseEntry("environ.wsgi-url-scheme", func(k *check, d environDump) { wantStr(k, d, "wsgi.url_scheme", target.scheme) }),
		caseEntry("environ.wsgi-input", func(k *check, d environDump) {
			wantPresent(k, d, "wsgi.input", "read", "readline", "readlines", "__iter__")
		}),
		caseEntry("environ.wsgi-errors", func(k *check, d environDump) {
			wantPresent(k, d, "wsgi.errors", "write", "writelines", "flush")
		}),
		caseEntry("environ.wsgi-multithread", func(k *check, d environDump) { wantPresent(k, d, "wsgi.multithread") }),
		caseEntry("environ.wsgi-multiprocess", func(k *check, d environDump) { wantPresent(k, d, "wsgi.multiprocess") }),
		caseEntry("environ.wsgi-run-once", func(k *check, d environDump) { wantPresent(k, d, "wsgi.run_once") }),
	)

	Describe("request parts that vary", func() {
		caseSpec("environ.server-protocol", func(k *check) {
			k.expect("SERVER_PROTOCOL=\"HTTP/1.1\" for an HTTP/1.1 request and \"HTTP/1.0\" for an HTTP/1.0 one")
			var seen []string
			for _, proto := range []string{"HTTP/1.1", "HTTP/1.0"} {
				d, _ := k.environOf(request{path: "/environ", proto: proto})
				seen = append(seen, proto+" request: "+d.show("SERVER_PROTOCOL"))
				if got, _ := d.str("SERVER_PROTOCOL"); got != proto {
					k.failf("%s", strings.Join(seen, "; "))
				}
			}
			k.saw("%s", strings.Join(seen, "; "))
		})
		caseSpec("environ.absent-values", func(k *check) {
			k.expect("QUERY_STRING, CONTENT_TYPE and CONTENT_LENGTH each absent or \"\" (CONTENT_LENGTH also \"0\") for a GET with no query, no Content-Type and no body")
			d, _ := k.environOf(request{path: "/environ"})
			var wrong, seen []string
			for _, key := range []string{"QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH"} {
				seen = append(seen, d.show(key))
				if _, present := d.Environ[key]; present {
					if got, ok := d.str(key); !ok || got != "" && !(key == "CONTENT_LENGTH" && got == "0") {
						wrong = append(wrong, d.show(key))
					}
				}
			}
			if len(wrong) > 0 {
				k.failf("%s", strings.Join(wrong, "; "))
			}
			k.saw("%s", strings.Join(seen, "; "))
		})
		caseSpec("environ.repeated-headers", func(k *check) {
			k.expect("HTTP_X_PROBE_REPEAT=\"first, second\" (\",\" with optional spaces) for two X-Probe-Repeat fields")
			d, _ := k.environOf(request{path: "/environ", header: rawhttp.Header{{Name: "X-Probe-Repeat", Value: "first"}, {Name: "X-Probe-Repeat", Value: "second"}}})
			if got, _ := d.str("HTTP_X_PROBE_REPEAT"); !regexp.MustCompile(`^first *, *second$`).MatchString(got) {
				k.failf("%s", d.show("HTTP_X_PROBE_REPEAT"))
			}
			k.saw("%s", d.show("HTTP_X_PROBE_REPEAT"))
		})
		caseSpec("environ.mount-root", func(k *check) {
			if target.mount == "" {
				k.skipf("the probe is served at the root (WSGISPEC_SCRIPT_NAME is empty), so there is no mount prefix to request")
			}
			k.expect("a request for %q gives SCRIPT_NAME=%q and PATH_INFO \"\" or absent", target.mount, target.mount)
			d, _ := k.environOf(request{path: ""})
			script, _ := d.str("SCRIPT_NAME")
			pathInfo, _ := d.str("PATH_INFO")
			if script != target.mount || pathInfo != "" {
				k.failf("%s, %s", d.show("SCRIPT_NAME"), d.show("PATH_INFO"))
			}
			k.saw("%s, %s", d.show("SCRIPT_NAME"), d.show("PATH_INFO"))
		})
	})

	Describe("non-ASCII request bytes", func() {
		// Bytes that are valid UTF-8 for code points above U+00FF: a server that decodes them as
		// UTF-8 (instead of one latin-1 code point per byte) produces characters outside latin-1.
		const (
			pathEscaped = "/environ/%E2%82%AC%C3%A9%FF"
			pathBytes   = "/environ/\xe2\x82\xac\xc3\xa9\xff"
			headerBytes = "caf\xc3\xa9 \xe2\x82\xac \xff"
		)
		nonASCII := request{path: pathEscaped, header: rawhttp.Header{{Name: "X-Probe-Latin", Value: headerBytes}}}

		caseSpec("environ.path-bytes-latin1", func(k *check) {
			k.expect("PATH_INFO=%s: the request path %s percent-decoded, one code point per byte", quoteBytes(pathBytes), pathEscaped)
			d, _ := k.environOf(nonASCII)
			if got, ok := d.str("PATH_INFO"); !ok || got != pathBytes {
				k.failf("%s", d.show("PATH_INFO"))
			}
			k.saw("%s", d.show("PATH_INFO"))
		})
		caseSpec("environ.header-bytes-latin1", func(k *check) {
			k.expect("HTTP_X_PROBE_LATIN=%s: the header's bytes, one code point per byte", quoteBytes(headerBytes))
			d, _ := k.environOf(nonASCII)
			if got, ok := d.str("HTTP_X_PROBE_LATIN"); !ok || got != headerBytes {
				k.failf("%s", d.show("HTTP_X_PROBE_LATIN"))
			}
			k.saw("%s", d.show("HTTP_X_PROBE_LATIN"))
		})
		caseSpec("environ.latin1-only", func(k *check) {
			k.expect("every str in environ encodable as latin-1, for a request with UTF-8 bytes in its path and a header")
			d, _ := k.environOf(nonASCII)
			var wrong []string
			for key, v := range d.Environ {
				if v.IsStr && v.Latin1 == nil {
					wrong = append(wrong, key+"="+v.String())
				}
			}
			if len(wrong) > 0 {
				k.failf("%s", strings.Join(wrong, "; "))
			}
			k.saw("all str values are within latin-1")
		})
	})

	Describe("truthful wsgi.multithread and wsgi.multiprocess", func() {
		caseSpec("environ.multithread-truthful", func(k *check) {
			k.expect("wsgi.multithread true in requests that ran at the same time on different OS threads of one process")
			seen, calls := concurrentCalls(k)
			for _, a := range calls {
				for _, b := range calls {
					if a.overlaps(b) && a.Pid == b.Pid && a.Thread != b.Thread && !(a.Multithread && b.Multithread) {
						k.failf("two requests ran at once in process %d on threads %d and %d, with wsgi.multithread %v and %v", a.Pid, a.Thread, b.Thread, a.Multithread, b.Multithread)
					}
				}
			}
			k.saw("%s", seen)
		})
		caseSpec("environ.multiprocess-truthful", func(k *check) {
			k.expect("wsgi.multiprocess true when requests are served by more than one process")
			seen, calls := concurrentCalls(k)
			pids := map[int]bool{}
			for _, c := range calls {
				pids[c.Pid] = true
			}
			for _, c := range calls {
				if len(pids) > 1 && !c.Multiprocess {
					k.failf("%d processes served the requests, yet process %d said wsgi.multiprocess false", len(pids), c.Pid)
				}
			}
			k.saw("%s", seen)
		})
	})

	Describe("over TLS", func() {
		caseSpec("environ.https-on", func(k *check) {
			if target.scheme != "https" {
				k.skipf("the target is plain HTTP: run against an https:// target (conform --url https://host:port) to judge this")
			}
			k.expect("HTTPS=\"on\" (or \"1\") for a request over TLS")
			d, _ := k.environOf(request{path: "/environ"})
			if got, _ := d.str("HTTPS"); !strings.EqualFold(got, "on") && got != "1" {
				k.failf("%s, though the request came over TLS (%s)", d.show("HTTPS"), d.show("wsgi.url_scheme"))
			}
			k.saw("%s", d.show("HTTPS"))
		})
	})

	Describe("what the application does with its environ", func() {
		caseSpec("environ.server-name-without-host", func(k *check) {
			k.expect("for an HTTP/1.0 request without Host: SERVER_NAME a non-empty str, SERVER_PORT a non-empty str of digits")
			d, _ := k.environOf(request{path: "/environ", proto: "HTTP/1.0", noHost: true})
			name, _ := d.str("SERVER_NAME")
			port, _ := d.str("SERVER_PORT")
			if name == "" || !regexp.MustCompile(`^[0-9]+$`).MatchString(port) {
				k.failf("%s, %s (%s)", d.show("SERVER_NAME"), d.show("SERVER_PORT"), d.show("HTTP_HOST"))
			}
			k.saw("%s, %s", d.show("SERVER_NAME"), d.show("SERVER_PORT"))
		})

		caseSpec("environ.mutation-isolated", func(k *check) {
			const body = "mutated environ body"
			k.expect("GET /mutate-environ (the application sets REQUEST_METHOD=HEAD, SERVER_PROTOCOL=HTTP/1.0, HTTP_CONNECTION=close, new keys) still gets its whole body %q; the next request's environ, on the same connection and on a new one, has none of the changes", body)
			token := newToken()
			c := k.open()
			x := k.tryOn(c, request{path: "/mutate-environ", token: token})
			// A close-delimited body left open is body.chunked-valid's failure, not this case's:
			// judge its bytes, and go on with a new connection.
			framed := x.err == nil
			if !framed && !(isTimeout(x.err) && x.resp != nil && x.resp.Framing == rawhttp.CloseDelimited) {
				k.completed(x)
			}
			if x.resp.Status != 200 || string(x.resp.Body) != body {
				k.failf("%q with %s body %q: the server framed the response by the environ the application rewrote", x.resp.StatusLine, x.resp.Framing, clip(x.resp.Body))
			}
			seen := []string{fmt.Sprintf("%s body %q", x.resp.Framing, body)}
			closed := true
			if framed {
				var extra []byte
				extra, closed, _ = c.Drain(time.Now().Add(200 * time.Millisecond))
				if len(extra) > 0 {
					k.failf("%d more bytes after the response: %q", len(extra), clip(extra))
				}
			}
			// The same connection first, then a new one after closing it: a server with one
			// worker (mod_wsgi under apache2 -X) serves one connection at a time.
			wheres := []string{"on a new connection"}
			if !closed {
				wheres = []string{"on the same connection", "on a new connection"}
			}
			for _, where := range wheres {
				next := c
				if where == "on a new connection" {
					next = k.open()
				}
				nx := k.completed(k.tryOn(next, request{path: "/environ"}))
				var d environDump
				k.probeJSON(nx, &d)
				var leaked []string
				for _, key := range []string{"HTTP_X_PROBE_LEAK", "wsgispec_probe.leak"} {
					if _, present := d.Environ[key]; present {
						leaked = append(leaked, d.show(key))
					}
				}
				for key, want := range map[string]string{"REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/environ"} {
					if got, _ := d.str(key); got != want {
						leaked = append(leaked, d.show(key))
					}
				}
				if _, present := d.Environ["HTTP_CONNECTION"]; present {
					leaked = append(leaked, d.show("HTTP_CONNECTION"))
				}
				if len(leaked) > 0 {
					sort.Strings(leaked)
					k.failf("the next request %s saw the earlier application's changes: %s", where, strings.Join(leaked, ", "))
				}
				seen = append(seen, "the next request "+where+" had a clean environ")
			}
			k.saw("%s", strings.Join(seen, "; "))
		})
	})

	caseSpec("environ.callable-kinds", func(k *check) {
		raw := os.Getenv(envCallableKinds)
		if raw == "" {
			k.skipf("only judged against a server the harness starts (a built-in or --server-cmd): it starts the server again with the probe as a class and as an instance")
		}
		k.expect("GET /environ answered by the probe when the server is given it as a class (probe:ApplicationClass) and as an instance with __call__ (probe:application_instance)")
		var seen []string
		for _, line := range strings.Split(raw, "\n") {
			kind, where, _ := strings.Cut(line, "=")
			if reason, failed := strings.CutPrefix(where, "!"); failed {
				k.failf("the server given the probe as %s did not start: %s", kind, reason)
			}
			u, err := url.Parse(where)
			if err != nil {
				k.failf("%s=%q is not a URL: %v", envCallableKinds, raw, err)
			}
			c, err := rawhttp.Dial(u.Host, readTimeout)
			if err != nil {
				k.failf("could not connect to the server given the probe as %s at %s: %v", kind, u.Host, err)
			}
			k.track(c)
			x := k.completed(k.tryOn(c, request{path: "/environ", header: rawhttp.Header{{Name: "Host", Value: u.Host}}}))
			var d environDump
			if x.resp.Status != 200 || !jsonInto(x.resp.Body, &d) || d.Environ == nil {
				k.failf("given the probe as %s, the server answered %q with body %q", kind, x.resp.StatusLine, clip(x.resp.Body))
			}
			seen = append(seen, kind+": 200 from the probe")
		}
		k.saw("%s", strings.Join(seen, "; "))
	})

	Describe("the server's declared concurrency model", func() {
		caseSpec("environ.concurrency-flags-declared", func(k *check) {
			d, _ := k.environOf(request{path: "/environ"})
			var flags []string
			for _, key := range concurrencyKeys {
				flags = append(flags, d.show(key))
			}
			model, err := declaredConcurrency()
			if err != nil {
				k.failf("%v", err)
			}
			if len(model) == 0 {
				k.skipf("the server's concurrency model is not declared (%s, e.g. multithread=true,multiprocess=false,run_once=false), so the flags cannot be judged; it sent %s", envConcurrency, strings.Join(flags, ", "))
			}
			var want, wrong []string
			for _, key := range concurrencyKeys {
				declared, ok := model[key]
				if !ok {
					continue
				}
				want = append(want, fmt.Sprintf("%s %v", key, declared))
				v, present := d.Environ[key]
				if got := present && truthy(v); got != declared {
					wrong = append(wrong, d.show(key))
				}
			}
			k.expect("as declared for this server: %s", strings.Join(want, ", "))
			if len(wrong) > 0 {
				k.failf("%s", strings.Join(wrong, ", "))
			}
			k.saw("%s", strings.Join(flags, ", "))
		})
	})

	Describe("wsgiref.validate", func() {
		caseSpec("environ.wsgiref-validate", func(k *check) {
			token := newToken()
			body := []byte("validated body\n")
			k.expect("200 with the body echoed, and no AssertionError or WSGIWarning from wsgiref.validate")
			x := k.do(request{method: "POST", path: "/validated", token: token, body: body})
			if x.resp.Status != 200 || string(x.resp.Body) != string(body) {
				k.failf("%q, body %q", x.resp.StatusLine, clip(x.resp.Body))
			}
			if target.probeDir == "" {
				k.saw("200 with the body echoed (WSGISPEC_PROBE_DIR unset: errors during iteration and close not checked)")
				return
			}
			rs := awaitRecords(token, 2*time.Second, func(rs []record) bool { return count(rs, "close") > 0 })
			var faults []string
			for _, r := range rs {
				switch r.Event {
				case "validator-error":
					faults = append(faults, r.Phase+": "+r.Error)
				case "validator-warning":
					faults = append(faults, "warning: "+r.Warning)
				}
			}
			if len(faults) > 0 {
				k.failf("wsgiref.validate: %s", strings.Join(faults, "; "))
			}
			if count(rs, "close") == 0 {
				k.failf("the validated iterable was never closed (%s)", eventList(rs))
			}
			k.saw("200 with the body echoed; the validator raised nothing and the iterable was closed")
		})
	})
})

// probeCall is what /concurrency reports about one request.
type probeCall struct {
	Pid          int     `json:"pid"`
	Thread       int64   `json:"thread"`
	Start        float64 `json:"start"`
	End          float64 `json:"end"`
	Multithread  bool    `json:"multithread"`
	Multiprocess bool    `json:"multiprocess"`
}

func (a probeCall) overlaps(b probeCall) bool { return a.Start < b.End && b.Start < a.End }

// concurrentCalls sends four requests at once, each held 0.5 s by the probe, and returns what
// they reported: which processes and OS threads ran them, and when.
func concurrentCalls(k *check) (string, []probeCall) {
	const n = 4
	results := make([]exchange, n)
	conns := make([]*rawhttp.Conn, n)
	for i := range conns {
		conns[i] = k.dial()
	}
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// tryOn touches nothing shared but its own connection and result slot. Closing at
			// once frees a synchronous worker for the requests still queued.
			results[i] = k.tryOn(conns[i], request{path: probePath("/concurrency", "hold", "0.5"), timeout: 10 * time.Second})
			conns[i].Close()
		}()
	}
	wg.Wait()
	var calls []probeCall
	var lines []string
	for _, x := range results {
		k.completed(x)
		var c probeCall
		k.probeJSON(x, &c)
		calls = append(calls, c)
		lines = append(lines, fmt.Sprintf("pid %d thread %d %.2f-%.2fs multithread=%v multiprocess=%v",
			c.Pid, c.Thread, c.Start-calls[0].Start, c.End-calls[0].Start, c.Multithread, c.Multiprocess))
	}
	return strings.Join(lines, "; "), calls
}

// envConcurrency is how the harness passes the suite a server's declared concurrency model:
// "multithread=true,multiprocess=false,run_once=false" (any of the keys; unset = unknown).
const envConcurrency = "WSGISPEC_CONCURRENCY"

// envCallableKinds names the servers the harness started with the probe as other kinds of
// callable: one "kind=http://host:port" a line, or "kind=!reason" when that one did not start.
const envCallableKinds = "WSGISPEC_CALLABLE_KINDS"

var concurrencyKeys = []string{"wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"}

// declaredConcurrency parses envConcurrency into the environ keys it speaks for.
func declaredConcurrency() (map[string]bool, error) {
	model := map[string]bool{}
	for _, item := range strings.Split(os.Getenv(envConcurrency), ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, value, _ := strings.Cut(item, "=")
		b, err := strconv.ParseBool(value)
		key := "wsgi." + name
		if err != nil || !slices.Contains(concurrencyKeys, key) {
			return nil, fmt.Errorf("%s=%q: want multithread=, multiprocess=, run_once= each true or false", envConcurrency, os.Getenv(envConcurrency))
		}
		model[key] = b
	}
	return model, nil
}

// truthy is Python's truth of a value the probe described (a bool, int, str or None).
func truthy(v pyValue) bool {
	if v.IsStr {
		return v.Text != ""
	}
	if v.JSON == nil {
		return true // an object of another type: true unless it defines otherwise, which none here does
	}
	switch string(v.JSON) {
	case "false", "0", "null", "0.0", "[]":
		return false
	}
	return true
}
