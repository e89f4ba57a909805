package conformance

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wsgispec/wsgispec/specs/rawhttp"
)

// request is what a spec sends. Host is added unless given, and Content-Length for a body unless
// the spec sets Content-Length or Transfer-Encoding itself.
type request struct {
	method  string // GET when empty
	path    string // below the mount, e.g. "/stream?iter=..."
	noHost  bool   // send no Host header (HTTP/1.0 allows it)
	proto   string // HTTP/1.1 when empty
	header  rawhttp.Header
	body    []byte
	timeout time.Duration // for the whole response; readTimeout when zero
	// until, when set, ends the read as soon as the body satisfies it. Cases about what a body
	// holds and when it arrived set it, so that they do not also wait for how the body ends (a
	// body without Content-Length that a server leaves open, as uWSGI's HTTP/1.1 socket does
	// until its 4 s idle timeout); the cases about framing leave it unset.
	until func(body []byte) bool
	// token, when set, is added to the query to name the request's records in the probe's side
	// channel. Besides letting the spec read them, it bounds the wait for a response the server
	// leaves unfinished: see watchFinish.
	token string
	// grace is how long the read waits for each further byte once the application has finished
	// (watchFinish); finishGrace when zero.
	grace time.Duration
}

// untilHas is a request.until that is satisfied once the body contains s.
func untilHas(s string) func([]byte) bool {
	return func(body []byte) bool { return bytes.Contains(body, []byte(s)) }
}

// untilHead is a request.until for cases that judge only the status line and headers.
func untilHead([]byte) bool { return true }

// untilLen is a request.until that is satisfied once the body holds n bytes.
func untilLen(n int) func([]byte) bool {
	return func(body []byte) bool { return len(body) >= n }
}

func (r request) methodOrGet() string {
	if r.method == "" {
		return "GET"
	}
	return r.method
}

func (r request) bytes() []byte {
	var h rawhttp.Header
	if !r.header.Has("Host") && !r.noHost {
		h = append(h, rawhttp.Field{Name: "Host", Value: target.addr})
	}
	h = append(h, r.header...)
	if r.body != nil && !r.header.Has("Content-Length") && !r.header.Has("Transfer-Encoding") {
		h = append(h, rawhttp.Field{Name: "Content-Length", Value: strconv.Itoa(len(r.body))})
	}
	path := r.path
	if r.token != "" {
		separator := "?"
		if strings.Contains(path, "?") {
			separator = "&"
		}
		path += separator + "token=" + r.token
	}
	return rawhttp.Request{Method: r.methodOrGet(), Target: target.mount + path, Proto: r.proto, Header: h, Body: r.body}.Bytes()
}

// exchange is one request and what came back.
type exchange struct {
	conn    *rawhttp.Conn
	resp    *rawhttp.Response // nil when not even a status line arrived
	sent    time.Time         // when the request's last byte was written
	err     error
	timeout time.Duration // how long the client waited
	grace   time.Duration // how long it waited once the application had finished
	token   string        // the request's token, if it had one
	logFrom int64         // the size of the probe's request log before the request was sent
}

// problem describes, for a failure message, why an exchange gave no complete response.
func (x exchange) problem() string {
	var reason string
	switch {
	case isTimeout(x.err) && x.resp == nil:
		reason = "nothing within " + x.waited()
	case isTimeout(x.err):
		reason = fmt.Sprintf("nothing more within %s: %v", x.waited(), x.err)
	case errors.Is(x.err, io.EOF):
		reason = "the server closed the connection without a response"
	default:
		reason = x.err.Error()
	}
	if x.resp == nil {
		return "no response (" + reason + ")"
	}
	return fmt.Sprintf("incomplete response %q with %d body bytes (%s)", x.resp.StatusLine, len(x.resp.Body), reason)
}

// waited says how long the client waited for the rest of a response before it gave up: from the
// application finishing (see watchFinish), or from the request.
func (x exchange) waited() string {
	if errors.Is(x.err, rawhttp.ErrQuiet) {
		return fmt.Sprintf("%v after the application had finished", x.grace)
	}
	return fmt.Sprintf("%v after the request", x.timeout)
}

// isTimeout reports whether the client gave up waiting: at the deadline, or once the application
// had finished (watchFinish).
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// open dials a connection for the spec's next exchange, first closing the connections of its
// earlier exchanges: the spec is done with them, and a server with a few synchronous workers
// (uWSGI, gunicorn sync) would otherwise keep a worker waiting on an idle keep-alive connection
// while the next request queues.
func (k *check) open() *rawhttp.Conn {
	for _, c := range k.conns {
		c.Close()
	}
	return k.dial()
}

// dial opens a connection without closing earlier ones (for requests sent side by side);
// failing to connect fails the case.
func (k *check) dial() *rawhttp.Conn {
	c, err := dialTarget(readTimeout)
	if err != nil {
		k.failf("could not connect to %s: %v", target.addr, err)
	}
	k.track(c)
	return c
}

// try sends r on a new connection and reads the response, returning any error to the spec.
func (k *check) try(r request) exchange { return k.tryOn(k.open(), r) }

// tryOn is try on an open connection (keep-alive).
func (k *check) tryOn(c *rawhttp.Conn, r request) exchange {
	timeout := r.timeout
	if timeout == 0 {
		timeout = readTimeout
	}
	deadline := time.Now().Add(timeout)
	logFrom := requestLogSize()
	sent, err := c.Write(r.bytes(), deadline)
	if err != nil {
		return exchange{conn: c, err: fmt.Errorf("sending the request: %w", err), timeout: timeout, token: r.token, logFrom: logFrom}
	}
	grace := r.grace
	if grace == 0 {
		grace = finishGrace
	}
	stopWatch := watchFinish(c, r.token, grace)
	resp, err := c.ReadResponseUntil(r.methodOrGet(), deadline, r.until)
	stopWatch()
	return exchange{conn: c, resp: resp, sent: sent, err: err, timeout: timeout, grace: grace, token: r.token, logFrom: logFrom}
}

// do is try for specs that need a complete response: anything less fails the case.
func (k *check) do(r request) exchange { return k.completed(k.try(r)) }

// doOn is do on an open connection.
func (k *check) doOn(c *rawhttp.Conn, r request) exchange { return k.completed(k.tryOn(c, r)) }

func (k *check) completed(x exchange) exchange {
	if x.err != nil {
		k.failf("%s", x.problem())
	}
	return x
}

// probeJSON decodes a 200 JSON answer from the probe into v; anything else fails the case.
func (k *check) probeJSON(x exchange, v any) {
	// A server may refuse a request it finds invalid (4xx, or 501/505: a feature or version it
	// does not implement) before calling the application; then nothing the application would
	// have seen can be judged, and the case is skipped, naming the case that judges the refusal.
	// A case whose own subject is the refusal fails instead, as do the http area's cases (they
	// judge the refusal itself); a 5xx otherwise is the server failing, not refusing.
	if refusal(x.resp.Status) && k.c.Area != "http" {
		judge, ok := refusalJudges[k.c.ID]
		if !ok {
			judge = noJudge
		}
		if judge != k.c.ID {
			k.skipUnlessAppCalled(x, judge)
		}
	}
	if x.resp.Status != 200 {
		k.failf("the server answered %q, not the probe application's 200 (body %q)", x.resp.StatusLine, clip(x.resp.Body))
	}
	if err := json.Unmarshal(x.resp.Body, v); err != nil {
		k.failf("the probe's answer is not the JSON it sends (%v): %q", err, clip(x.resp.Body))
	}
}

// refusal reports whether status is one a server answers a request with when it declines to
// serve it: a client error, 501 Not Implemented or 505 HTTP Version Not Supported.
func refusal(status int) bool { return status >= 400 && status < 500 || status == 501 || status == 505 }

// noJudge is what a skip says when no case judges a refusal: the PEP does not oblige a server
// to serve every request (one with non-ASCII bytes, HTTP/1.0 without Host, ...).
const noJudge = ""

// refusalJudges names, for the cases whose requests a server may refuse, the case that judges
// such a refusal. A case named as its own judge fails on a refusal: the refusal is its subject.
var refusalJudges = map[string]string{
	"input.chunked-body":        "input.chunked-body",
	"input.chunked-terminated":  "input.chunked-body",
	"input.expect-continue":     "input.expect-continue",
	"environ.mutation-isolated": "environ.mutation-isolated",
}

// skipUnlessAppCalled skips the case when the probe's request log shows that the server answered
// x's request without calling the application (it refused it, or answered it itself): what the
// case judges happens in or after the application, so there is nothing to judge. judge is the
// case that judges that answer, or noJudge. Without the request log nothing is known, and
// nothing is skipped.
func (k *check) skipUnlessAppCalled(x exchange, judge string) {
	if called, known := x.appCalled(); !known || called {
		return
	}
	answer := "no response"
	if x.resp != nil {
		answer = fmt.Sprintf("%q (body %q)", x.resp.StatusLine, clip(x.resp.Body))
	} else if x.err != nil {
		answer = x.problem()
	}
	where := "whether the server may answer so is not a question of this case, and no PEP 3333 case makes it one"
	if judge != noJudge {
		where = judge + " judges that answer"
	}
	k.skipf("precondition not met: the server answered the request with %s without calling the application, so there is nothing the application did to judge; %s", answer, where)
}

// appCalled reports whether the probe logged a call of the application for x's request (for a
// request with a token, a call with that token); known is false when the suite cannot read the
// probe's request log.
func (x exchange) appCalled() (called, known bool) {
	if !logging() {
		return false, false
	}
	f, err := os.Open(filepath.Join(target.probeDir, requestLog))
	if err != nil {
		return false, true // the application would have created it
	}
	defer f.Close()
	if _, err := f.Seek(x.logFrom, io.SeekStart); err != nil {
		return false, false
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var l requestLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Event != "begin" {
			continue
		}
		if x.token == "" || strings.Contains(l.Target, "token="+x.token) {
			return true, true
		}
	}
	return false, true
}

// jsonInto reports whether b decodes as JSON into v.
func jsonInto(b []byte, v any) bool { return json.Unmarshal(b, v) == nil }

// probePath builds a path to a probe route with query parameters given as name, value pairs.
// Values may hold any bytes: the probe decodes percent-escapes as latin-1.
func probePath(route string, params ...string) string {
	if len(params) == 0 {
		return route
	}
	var q []string
	for i := 0; i+1 < len(params); i += 2 {
		q = append(q, url.QueryEscape(params[i])+"="+url.QueryEscape(params[i+1]))
	}
	return route + "?" + strings.Join(q, "&")
}

// newToken names one request's records in the probe's side channel.
func newToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// clip shortens bytes for a failure message.
func clip(b []byte) string {
	const max = 300
	if len(b) > max {
		return rawhttp.Escape(b[:max]) + fmt.Sprintf("[... %d more bytes]", len(b)-max)
	}
	return rawhttp.Escape(b)
}

// --- the probe's side channel -------------------------------------------------------------

// recordPoll is how often the specs read a request's records while they wait for one.
const recordPoll = 25 * time.Millisecond

// record is one line the probe appended to <WSGISPEC_PROBE_DIR>/<token>.jsonl.
type record struct {
	Event   string  `json:"event"`
	Error   string  `json:"error"`
	Same    bool    `json:"same"`
	Warning string  `json:"warning"`
	Phase   string  `json:"phase"`
	Pid     int     `json:"pid"`
	T       float64 `json:"t"`
}

// needProbeDir skips a case that can only be judged from what the probe records inside the
// server when there is no side channel, or the probe cannot use it.
func (k *check) needProbeDir() {
	if target.probeDir == "" {
		k.skipf("WSGISPEC_PROBE_DIR is not set, and this case is judged by what the probe records inside the server")
	}
	if target.sideChannel != "" {
		k.skipf("%s", target.sideChannel)
	}
}

func readRecords(token string) []record {
	f, err := os.Open(filepath.Join(target.probeDir, token+".jsonl"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r record
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// awaitRecords polls the token's records until done accepts them or within has passed, and
// returns the last ones read: the server may record close() after the client saw the response.
func awaitRecords(token string, within time.Duration, done func([]record) bool) []record {
	deadline := time.Now().Add(within)
	for {
		rs := readRecords(token)
		if done(rs) || time.Now().After(deadline) {
			return rs
		}
		time.Sleep(recordPoll)
	}
}

// finishEvents are the records after which the application does nothing more for a request: it
// raised, it returned an iterable without close() (a list), or its iterable was closed.
var finishEvents = []string{"app-raised", "app-returned-without-close", "close"}

// watchFinish watches, while c reads the response to the request named by token, for the
// probe's record that the application has finished with it; from then on the read waits at most
// grace for each further byte (rawhttp.Conn.EndWhenQuiet), and no longer until its own deadline.
// So a server that leaves a response unfinished (a close-delimited body still open, a
// Content-Length not met, or nothing at all) is judged grace after it had everything it needed,
// not readTimeout after the request. It returns the function that ends the watch, to call once
// the read is over. Without a token, or a side channel the probe can record into, the read waits
// for its deadline as before.
//
// Only a case whose verdict does not hang on what a server does later than that should give a
// token: not one that accepts a connection closed by the server's keep-alive timeout.
func watchFinish(c *rawhttp.Conn, token string, grace time.Duration) (stop func()) {
	if token == "" || target.probeDir == "" || target.sideChannel != "" {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		poll := time.NewTicker(recordPoll)
		defer poll.Stop()
		for {
			if _, finished := first(readRecords(token), finishEvents...); finished {
				c.EndWhenQuiet(grace)
				return
			}
			select {
			case <-done:
				return
			case <-poll.C:
			}
		}
	}()
	return func() {
		close(done)
		<-exited
		c.EndWhenQuiet(0) // the next request on a kept-alive connection has its own watch
	}
}

func count(rs []record, event string) int {
	n := 0
	for _, r := range rs {
		if r.Event == event {
			n++
		}
	}
	return n
}

func first(rs []record, events ...string) (record, bool) {
	for _, r := range rs {
		for _, e := range events {
			if r.Event == e {
				return r, true
			}
		}
	}
	return record{}, false
}

func eventList(rs []record) string {
	if len(rs) == 0 {
		return "nothing recorded"
	}
	var names []string
	for _, r := range rs {
		s := r.Event
		if r.Error != "" {
			s += " (" + r.Error + ")"
		}
		names = append(names, s)
	}
	return "recorded: " + strings.Join(names, ", ")
}

// --- the environ the probe reports --------------------------------------------------------

// pyValue is how the probe describes one Python value.
type pyValue struct {
	Type  string `json:"type"`
	IsStr bool   `json:"is_str"`
	Text  string `json:"text"`
	// Latin1 is the str's latin-1 encoding in base64, null when it holds a code point above U+00FF.
	Latin1  *string         `json:"latin1"`
	JSON    json.RawMessage `json:"json"`
	Repr    string          `json:"repr"`
	Methods []string        `json:"methods"`
}

// bytes returns a str value's latin-1 bytes: for a correct server, exactly the request's bytes.
func (v pyValue) bytes() ([]byte, bool) {
	if !v.IsStr || v.Latin1 == nil {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(*v.Latin1)
	return b, err == nil
}

// quoteBytes renders bytes in double quotes with every byte outside printable ASCII as \xHH,
// so that two byte strings which would print as the same characters look different.
func quoteBytes(s string) string {
	return `"` + strings.ReplaceAll(rawhttp.Escape([]byte(s)), `"`, `\"`) + `"`
}

// String renders the value for messages: a str as its latin-1 bytes.
func (v pyValue) String() string {
	if b, ok := v.bytes(); ok {
		return quoteBytes(string(b))
	}
	switch {
	case v.IsStr:
		return fmt.Sprintf("%+q (a str holding code points above U+00FF)", v.Text)
	case v.JSON != nil:
		return fmt.Sprintf("%s %s", v.Type, v.JSON)
	default:
		return fmt.Sprintf("%s %s", v.Type, v.Repr)
	}
}

func (v pyValue) hasMethods(names ...string) (missing []string) {
	for _, n := range names {
		found := false
		for _, m := range v.Methods {
			found = found || m == n
		}
		if !found {
			missing = append(missing, n)
		}
	}
	return missing
}

type environDump struct {
	EnvironType     string             `json:"environ_type"`
	CalledByKeyword bool               `json:"called_by_keyword"`
	Pid             int                `json:"pid"`
	ProbeDir        *string            `json:"probe_dir"` // as the probe sees it
	ProbeDirOK      bool               `json:"probe_dir_writable"`
	Environ         map[string]pyValue `json:"environ"`
	// OSEnviron holds the names in the server process's os.environ, which a server may copy
	// into environ (PEP 3333: arbitrary operating-system "environment variables").
	OSEnviron map[string]bool `json:"os_environ"`
}

// str returns a key's value as latin-1 bytes rendered to a Go string; ok is false when the key
// is absent, not a str, or not latin-1.
func (d environDump) str(key string) (string, bool) {
	v, present := d.Environ[key]
	if !present {
		return "", false
	}
	b, ok := v.bytes()
	return string(b), ok
}

// show renders a key for messages: its value, or that it is absent.
func (d environDump) show(key string) string {
	v, present := d.Environ[key]
	if !present {
		return key + " absent"
	}
	return key + "=" + v.String()
}

func (d environDump) keys(prefix string) []string {
	var out []string
	for key := range d.Environ {
		if strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// environOf asks the probe for the environ it got for r (whose path should be below /environ).
func (k *check) environOf(r request) (environDump, exchange) {
	x := k.do(r)
	var d environDump
	k.probeJSON(x, &d)
	return d, x
}

// bytesDiff describes how got differs from want, or returns "" when they are equal.
func bytesDiff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("%d bytes, want %d; first difference at byte %d", len(got), len(want), i)
}
