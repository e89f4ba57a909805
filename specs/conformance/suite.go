// Package conformance is the PEP 3333 conformance suite: one Ginkgo spec per catalog case,
// driving a server that runs the probe app (pyapps/probe) over raw TCP. It knows nothing of how
// the server was started: the target comes from the environment, and without it every spec
// skips (so a plain `go test ./...` passes quickly). The suite is linked into wsgispec, which
// runs it in a child of itself (package specs/suites) with --ginkgo.label-filter and
// --ginkgo.json-report; `go test` runs the same specs for development.
package conformance

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/specs/catalog"
	"github.com/wsgispec/wsgispec/specs/deferred"
	"github.com/wsgispec/wsgispec/specs/rawhttp"
)

// Run runs the suite once (Ginkgo allows one run per process), configured by Ginkgo's
// --ginkgo.* flags, and reports whether every spec passed; t is told of a failure.
func Run(t GinkgoTestingT) bool {
	nodes.Declare()
	return RunSpecs(t, "PEP 3333 conformance")
}

// nodes holds the suite's top-level specs until Run (see package deferred).
var nodes deferred.Nodes

// Undeclared lists the catalog cases that do not have exactly one spec. Ginkgo builds the whole
// spec tree before label filters apply, so after Run every caseSpec and caseEntry has been seen,
// whatever ran.
func Undeclared() []string {
	var problems []string
	for _, c := range catalog.All() {
		if n := declared[c.ID]; n != 1 {
			problems = append(problems, fmt.Sprintf("case %s has %d specs, want 1", c.ID, n))
		}
	}
	return problems
}

// declared counts the specs declared per case ID.
var declared = map[string]int{}

// target is the server under test, read once from the environment the harness sets.
var target = readTarget()

type targetEnv struct {
	addr     string // host:port to dial, from WSGISPEC_TARGET
	scheme   string // WSGISPEC_TARGET's: "http", or "https" to speak TLS to it
	mount    string // WSGISPEC_SCRIPT_NAME: the prefix the probe is served under, "" at the root
	probeDir string // WSGISPEC_PROBE_DIR: where the probe records what only the server sees
	server   string // WSGISPEC_SERVER, for messages
	problem  string // why WSGISPEC_TARGET is unusable, when it is set but wrong
	// sideChannel says why the probe cannot record into probeDir, when it cannot; the cases
	// that need the records then skip with that reason.
	sideChannel string
}

func readTarget() targetEnv {
	t := targetEnv{
		mount:    strings.TrimSuffix(os.Getenv("WSGISPEC_SCRIPT_NAME"), "/"),
		probeDir: os.Getenv("WSGISPEC_PROBE_DIR"),
		server:   os.Getenv("WSGISPEC_SERVER"),
	}
	raw := os.Getenv("WSGISPEC_TARGET")
	if raw == "" {
		return t
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		t.problem = fmt.Sprintf("WSGISPEC_TARGET=%q is not a URL: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") != "":
		t.problem = fmt.Sprintf("WSGISPEC_TARGET=%q must be http://host:port or https://host:port with no path (use WSGISPEC_SCRIPT_NAME for a mount prefix)", raw)
	case u.Port() == "":
		t.scheme, t.addr = u.Scheme, u.Host+map[string]string{"http": ":80", "https": ":443"}[u.Scheme]
	default:
		t.scheme, t.addr = u.Scheme, u.Host
	}
	if t.mount != "" && !strings.HasPrefix(t.mount, "/") {
		t.problem = fmt.Sprintf("WSGISPEC_SCRIPT_NAME=%q must start with /", t.mount)
	}
	return t
}

var _ = nodes.BeforeEach(func() {
	if target.addr == "" && target.problem == "" {
		Skip("WSGISPEC_TARGET is not set: run the suite through `wsgispec conform`, or point WSGISPEC_TARGET at a server running pyapps/probe")
	}
	targetOnce.Do(func() { target.problem = checkTarget() })
	if target.problem != "" {
		// No case can be judged: abort, so that every case reports this one reason as an error.
		AbortSuite(target.problem)
	}
	watchIdle()
})

var _ = nodes.ReportAfterEach(reportProgress)

var targetOnce sync.Once

// dialTarget connects to the target, over TLS for an https target.
func dialTarget(timeout time.Duration) (*rawhttp.Conn, error) {
	if target.scheme == "https" {
		return rawhttp.DialTLS(target.addr, timeout)
	}
	return rawhttp.Dial(target.addr, timeout)
}

// askTarget sends GET path (below the mount) on a connection of its own, over TLS for an https
// target, and reads the answer: the suite's own questions to the server, outside any case.
func askTarget(path string, header rawhttp.Header, deadline time.Time) (*rawhttp.Response, error) {
	req := rawhttp.Request{Method: "GET", Target: target.mount + path, Header: append(rawhttp.Header{{Name: "Host", Value: target.addr}}, header...)}
	c, err := dialTarget(time.Until(deadline))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(req.Bytes(), deadline); err != nil {
		return nil, err
	}
	return c.ReadResponse("GET", deadline)
}

// checkTarget asks the target once for the probe's /environ, so that a wrong URL, a server not
// running the probe or a wrong WSGISPEC_SCRIPT_NAME stops the run with one clear reason rather
// than failing each case with its own puzzling one.
func checkTarget() string {
	if target.problem != "" {
		return target.problem
	}
	where := fmt.Sprintf("WSGISPEC_TARGET=%s WSGISPEC_SCRIPT_NAME=%q", target.addr, target.mount)
	if target.server != "" {
		where = target.server + " (" + where + ")"
	}
	resp, err := askTarget("/environ", nil, time.Now().Add(readTimeout))
	if err != nil {
		return fmt.Sprintf("%s: GET %s/environ got no answer: %v", where, target.mount, err)
	}
	var d environDump
	if resp.Status != 200 || json.Unmarshal(resp.Body, &d) != nil || d.Environ == nil {
		return fmt.Sprintf("%s: GET %s/environ answered %q, not the probe app's environ (is pyapps/probe served there?)", where, target.mount, resp.StatusLine)
	}
	if got, _ := d.str("PATH_INFO"); got != "/environ" {
		return fmt.Sprintf("%s: GET %s/environ reached the probe with %s and %s: the server mounts it elsewhere", where, target.mount, d.show("SCRIPT_NAME"), d.show("PATH_INFO"))
	}
	target.sideChannel = checkSideChannel(d)
	return ""
}

// checkSideChannel compares the probe's side-channel directory with WSGISPEC_PROBE_DIR.
func checkSideChannel(d environDump) string {
	if target.probeDir == "" {
		return ""
	}
	fix := fmt.Sprintf("start the server with WSGISPEC_PROBE_DIR=%s in its environment (mod_wsgi: SetEnv), on a directory its user can write", target.probeDir)
	switch mine, err := os.Stat(target.probeDir); {
	case err != nil:
		return fmt.Sprintf("WSGISPEC_PROBE_DIR=%s: %v", target.probeDir, err)
	case d.ProbeDir == nil:
		return "the probe sees no WSGISPEC_PROBE_DIR, so it cannot record what happens inside the server: " + fix
	case !d.ProbeDirOK:
		return fmt.Sprintf("the probe cannot write to its WSGISPEC_PROBE_DIR %s: %s", *d.ProbeDir, fix)
	default:
		theirs, err := os.Stat(*d.ProbeDir)
		if err != nil || !os.SameFile(mine, theirs) {
			return fmt.Sprintf("the probe records into %s, but WSGISPEC_PROBE_DIR here is %s: %s", *d.ProbeDir, target.probeDir, fix)
		}
	}
	return ""
}

// Every spec gets its own deadline so that a server that hangs fails that case and the suite
// goes on. Client reads use shorter deadlines than the spec's, so a spec normally ends by itself
// with a precise message; the short grace period bounds the rare case where it does not.
const (
	specTimeout = 20 * time.Second
	readTimeout = 3 * time.Second
	gracePeriod = 2 * time.Second
)

// finishGrace is how long a response may go without a byte once the probe has recorded that the
// application has finished with the request (watchFinish), before the client gives up on the rest
// and judges what it got. By then the server holds everything it needs: what remains is writing
// bytes it already has, or closing the connection, which takes a correct server milliseconds
// even on a loaded machine; and a response still arriving is not cut off, since each byte
// restarts the wait. It spares waiting out readTimeout where a server leaves a response
// unfinished, as uWSGI's HTTP/1.1 socket does with every body it does not frame (until its own
// idle timeout) and after an application error.
const finishGrace = 500 * time.Millisecond

// caseSpec declares the spec of one catalog case: the It is named after the case and labelled
// with its ID, area and level, and body gets a check that carries the case's evidence.
func caseSpec(id string, body func(k *check)) bool {
	c := catalog.MustLookup(id)
	declared[id]++
	return It(specText(c), Label(c.Labels()...), SpecTimeout(specTimeout), GracePeriod(gracePeriod), func(ctx SpecContext) {
		k := newCheck(c)
		body(k)
	})
}

// caseEntry is one DescribeTable entry checking the case id; the table's body receives the
// SpecContext, the id and then args.
func caseEntry(id string, args ...any) TableEntry {
	c := catalog.MustLookup(id)
	declared[id]++
	return Entry(specText(c), append([]any{Label(c.Labels()...), SpecTimeout(specTimeout), GracePeriod(gracePeriod), id}, args...)...)
}

func specText(c catalog.Case) string { return c.Title + " [" + c.ID + "]" }

// check is one spec's evidence as it builds up: what the case expects, what was seen, and the
// connections whose bytes make up the transcript. Its failures name the case, its level and
// requirement, the expectation and what actually happened.
type check struct {
	c     catalog.Case
	ev    catalog.Evidence
	conns []*rawhttp.Conn
}

func newCheck(c catalog.Case) *check {
	k := &check{c: c}
	DeferCleanup(k.report)
	return k
}

// expect states what the case expects, in words a server author can act on.
func (k *check) expect(format string, args ...any) { k.ev.Expected = fmt.Sprintf(format, args...) }

// saw records what was observed (for passing cases too: the report shows it).
func (k *check) saw(format string, args ...any) { k.ev.Actual = fmt.Sprintf(format, args...) }

// failf records what was observed and fails the case.
func (k *check) failf(format string, args ...any) {
	k.saw(format, args...)
	Fail(fmt.Sprintf("%s (%s): %s\n  requirement: %s\n  expected: %s\n  actual: %s",
		k.c.ID, k.c.Level, k.c.Title, k.c.Requirement, k.ev.Expected, k.ev.Actual), 1)
}

// skipf skips the case, saying why it cannot be judged against this server.
func (k *check) skipf(format string, args ...any) {
	k.saw(format, args...)
	Skip(fmt.Sprintf("%s: %s", k.c.ID, k.ev.Actual), 1)
}

// track adds a connection to the transcript.
func (k *check) track(c *rawhttp.Conn) {
	k.conns = append(k.conns, c)
	DeferCleanup(func() { c.Close() }) // closing twice (after Abort) is harmless here
}

// report attaches the evidence; it runs after the spec, whether it passed or failed.
func (k *check) report() {
	var transcripts, replays []string
	for _, c := range k.conns {
		transcripts = append(transcripts, c.Transcript())
		replays = append(replays, c.Reproduce())
	}
	k.ev.Transcript = strings.Join(transcripts, "\n")
	k.ev.Reproduce = strings.Join(replays, "\n")
	// What a server sent can reach expected and actual (a status line, header values): bounded
	// by the client's caps, and trimmed again here so a results file stays readable.
	k.ev.Expected, k.ev.Actual = trimText(k.ev.Expected), trimText(k.ev.Actual)
	AddReportEntry(catalog.EvidenceEntry, k.ev)
}

// maxEvidenceText bounds a case's expected and actual texts.
const maxEvidenceText = 4 << 10

// trimText cuts s to maxEvidenceText bytes, keeping its start and end.
func trimText(s string) string {
	if len(s) <= maxEvidenceText {
		return s
	}
	return strings.ToValidUTF8(s[:maxEvidenceText/2], "") + fmt.Sprintf(" [... %d bytes omitted ...] ", len(s)-maxEvidenceText) + strings.ToValidUTF8(s[len(s)-maxEvidenceText/2:], "")
}
