package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
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
			k.expect("every key without a dot (CGI and OS variables) holds a str")
			var wrong []string
			checked := 0
			for key, v := range d.Environ {
				if strings.Contains(key, ".") {
					continue
				}
				checked++
				if !v.IsStr {
					wrong = append(wrong, key+" is "+v.Type)
				}
			}
			if len(wrong) > 0 {
				k.failf("%s", strings.Join(wrong, "; "))
			}
			k.saw("all %d such keys hold str", checked)
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
		caseEntry("environ.wsgi-url-scheme", func(k *check, d environDump) { wantStr(k, d, "wsgi.url_scheme", "http") }),
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
			k.expect("QUERY_STRING, CONTENT_TYPE and CONTENT_LENGTH each absent or \"\" for a GET with no query, no Content-Type and no body")
			d, _ := k.environOf(request{path: "/environ"})
			var wrong, seen []string
			for _, key := range []string{"QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH"} {
				seen = append(seen, d.show(key))
				if _, present := d.Environ[key]; present {
					if got, ok := d.str(key); !ok || got != "" {
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
