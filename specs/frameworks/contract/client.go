package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wsgispec/wsgispec/internal/readcap"
	"github.com/wsgispec/wsgispec/specs/catalog"
	"github.com/wsgispec/wsgispec/specs/frameworks"
)

const requestTimeout = 30 * time.Second

// limits cap what the client reads of an answer (readcap.Defaults: far above the API's largest,
// the 1 MiB post); net/http enforces the header section's, the client the others.
var limits = readcap.Defaults

// httpClient makes the steps' requests, one at a time, on a kept-alive connection.
var httpClient = &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
	Proxy: nil, MaxResponseHeaderBytes: int64(limits.Head),
}}

// burstClient makes the requests of concurrency.creates, each on a connection of its own, closed
// after the answer. Kept-alive connections would measure something else: a preforking server
// whose workers each wait on an idle kept-alive connection until it times out (uWSGI's
// --http11-socket does) serves a burst of new connections only a few seconds at a time.
var burstClient = &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
	Proxy: nil, MaxResponseHeaderBytes: int64(limits.Head), DisableKeepAlives: true,
}}

const (
	excerptLimit    = 300       // bytes of a body shown in a message or transcript line
	transcriptLimit = 16 * 1024 // bytes of transcript kept per step
)

// exchange is one request made by a step and what came back.
type exchange struct {
	Method      string
	URL         string
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
	Err         error
	// Connected says whether the TCP connection was established (the server's kernel accepted
	// it, though maybe only into its listen backlog) before Err.
	Connected bool
}

// Request renders the request for messages: method, URL and body excerpt.
func (ex *exchange) Request() string {
	s := ex.Method + " " + ex.URL
	if ex.RequestBody != nil {
		s += " " + excerpt(ex.RequestBody)
	}
	return s
}

// Response renders the answer for messages: status and body excerpt, or the transport error.
func (ex *exchange) Response() string {
	if ex.Err != nil {
		return "no response: " + ex.Err.Error()
	}
	if len(ex.Body) == 0 {
		return fmt.Sprintf("%d, empty body", ex.Status)
	}
	return fmt.Sprintf("%d %s", ex.Status, excerpt(ex.Body))
}

// curl replays the request.
func (ex *exchange) curl() string {
	s := fmt.Sprintf("curl -sS -i -X %s '%s'", ex.Method, ex.URL)
	switch {
	case ex.RequestBody == nil:
	case len(ex.RequestBody) > excerptLimit:
		s += fmt.Sprintf(" -H 'Content-Type: application/json' --data-binary @body.json  # body: %d bytes, starting %s", len(ex.RequestBody), excerpt(ex.RequestBody))
	default:
		s += " -H 'Content-Type: application/json' --data-binary '" + strings.ReplaceAll(string(ex.RequestBody), "'", `'\''`) + "'"
	}
	return s
}

// excerpt shows a body in a message, trimmed to excerptLimit bytes (and of its final newline).
func excerpt(b []byte) string {
	b = bytes.TrimRight(b, "\r\n")
	if len(b) <= excerptLimit {
		return string(b)
	}
	return fmt.Sprintf("%s… (%d bytes)", b[:excerptLimit], len(b))
}

// client makes one step's requests against the app and keeps the evidence the step reports: every
// exchange (trimmed) and the expectation checked last, which is the failing one when a step fails.
type client struct {
	ctx      context.Context // the step's: cancelled when it times out
	step     frameworks.Step
	base     string
	mu       sync.Mutex // concurrency.creates records from many goroutines
	log      strings.Builder
	dropped  int
	expected string
	actual   string
	last     *exchange
	created  []int64 // posts to delete when the step ends
}

func newClient(ctx context.Context, step frameworks.Step) *client {
	return &client{ctx: ctx, step: step, base: env.Target + env.ScriptName}
}

// send makes a request with httpClient and records it. body nil sends no body; a []byte is sent
// as is, anything else as its JSON encoding.
func (c *client) send(method, path string, body any) *exchange {
	return c.sendWith(httpClient, method, path, body)
}

func (c *client) sendWith(hc *http.Client, method, path string, body any) *exchange {
	ex := &exchange{Method: method, URL: c.base + path}
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		ex.RequestBody = b
	default:
		encoded, err := json.Marshal(b)
		Expect(err).NotTo(HaveOccurred(), "encoding the request body")
		ex.RequestBody = encoded
	}
	if ex.RequestBody != nil {
		reader = bytes.NewReader(ex.RequestBody)
	}
	var connected atomic.Bool
	ctx := httptrace.WithClientTrace(c.ctx, &httptrace.ClientTrace{
		ConnectDone: func(_, _ string, err error) { connected.Store(err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, method, ex.URL, reader)
	Expect(err).NotTo(HaveOccurred(), "building the request")
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	ex.Status, ex.Header, ex.Body, ex.Err = do(hc, req)
	ex.Connected = connected.Load()
	c.record(ex)
	return ex
}

// do makes the request and reads the answer within limits.
func do(hc *http.Client, req *http.Request) (int, http.Header, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		// net/http's own wording for its MaxResponseHeaderBytes, put in the caps' terms.
		if strings.Contains(err.Error(), "server response headers exceeded") {
			err = fmt.Errorf("%w (%v)", &readcap.Exceeded{Cap: readcap.Head, Limit: int64(limits.Head)}, err)
		}
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	fields := 0
	for _, values := range resp.Header {
		fields += len(values)
	}
	if fields > limits.Fields {
		return resp.StatusCode, nil, nil, &readcap.Exceeded{Cap: readcap.Fields, Limit: int64(limits.Fields)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limits.Body+1))
	if err == nil && int64(len(body)) > limits.Body {
		body, err = body[:limits.Body], &readcap.Exceeded{Cap: readcap.Body, Limit: limits.Body}
	}
	return resp.StatusCode, resp.Header, body, err
}

func (c *client) record(ex *exchange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = ex
	line := fmt.Sprintf("> %s\n< %s\n", ex.Request(), ex.Response())
	if c.log.Len()+len(line) > transcriptLimit {
		c.dropped++
		return
	}
	c.log.WriteString(line)
}

// context introduces a failure message: the step, where it ran and the request that failed.
func (c *client) context(ex *exchange) string {
	where := ""
	if env.Framework != "" || env.Server != "" {
		where = fmt.Sprintf(" (%s on %s)", orUnknown(env.Framework), orUnknown(env.Server))
	}
	return fmt.Sprintf("step %s%s: %s\n  request:  %s\n  response: %s", c.step.Name, where, c.step.Title, ex.Request(), ex.Response())
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// expect records an expectation about an exchange as the step's evidence and fails the step, with
// expected and actual, when it does not hold.
func (c *client) expect(ex *exchange, holds bool, expected, actual string) {
	GinkgoHelper()
	c.mu.Lock()
	c.expected, c.actual, c.last = expected, actual, ex
	c.mu.Unlock()
	if !holds {
		Fail(fmt.Sprintf("%s\n  expected: %s\n  actual:   %s", c.context(ex), expected, actual))
	}
}

// status checks the status code (and that the request got an answer at all).
func (c *client) status(ex *exchange, want int) {
	GinkgoHelper()
	c.expect(ex, ex.Err == nil && ex.Status == want, fmt.Sprintf("%s answers %d", ex.Method, want), ex.Response())
}

// decode checks that the answer is JSON (by Content-Type and content) and decodes it into v.
func (c *client) decode(ex *exchange, v any) {
	GinkgoHelper()
	mediaType, _, _ := mime.ParseMediaType(ex.Header.Get("Content-Type"))
	c.expect(ex, mediaType == "application/json", "Content-Type application/json", fmt.Sprintf("Content-Type %q", ex.Header.Get("Content-Type")))
	dec := json.NewDecoder(bytes.NewReader(ex.Body))
	err := dec.Decode(v)
	c.expect(ex, err == nil, fmt.Sprintf("a JSON body shaped as %T", v), fmt.Sprintf("%v in %s", err, excerpt(ex.Body)))
}

// statusJSON checks the status and decodes the JSON answer into v.
func (c *client) statusJSON(ex *exchange, want int, v any) {
	GinkgoHelper()
	c.status(ex, want)
	c.decode(ex, v)
}

// apiError checks an error answer: the status and a JSON body {"error": "..."} with a message
// (FastAPI's own {"detail": ...} is accepted on a 422, as DESIGN.md allows).
func (c *client) apiError(ex *exchange, want int) {
	GinkgoHelper()
	c.status(ex, want)
	var body map[string]any
	c.decode(ex, &body)
	message, isText := body["error"].(string)
	_, hasDetail := body["detail"]
	c.expect(ex, (isText && message != "") || (want == 422 && hasDetail),
		`an error body {"error": "<message>"}`, excerpt(ex.Body))
}

// evidence is what the step reports, as the catalog's Evidence entry.
func (c *client) evidence() catalog.Evidence {
	c.mu.Lock()
	defer c.mu.Unlock()
	transcript := c.log.String()
	if c.dropped > 0 {
		transcript += fmt.Sprintf("… %d more exchanges not shown\n", c.dropped)
	}
	ev := catalog.Evidence{Expected: c.expected, Actual: c.actual, Transcript: transcript}
	if c.last != nil {
		ev.Reproduce = c.last.curl()
	}
	return ev
}

// cleanupTimeout bounds the deletions after a step (which may have timed out itself).
const cleanupTimeout = 30 * time.Second

// cleanup deletes the posts the step created (their comments go with them). Best effort, not
// recorded: a failure here would be reported by the steps that check deletion.
func (c *client) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	for _, id := range c.created {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, fmt.Sprintf("%s/posts/%d", c.base, id), nil)
		if err != nil {
			continue
		}
		do(httpClient, req)
	}
}
