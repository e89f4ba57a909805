package conformance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/wsgispec/wsgispec/specs/catalog"
	"github.com/wsgispec/wsgispec/specs/rawhttp"
)

// Case isolation. A verdict must depend on its case only, but a case can leave the server busy:
// an iterable still running after the client left, a single-threaded server still blocked on
// a read. So after each case (once its connections are closed) the suite waits, at most
// idleWait, until the probe has logged the end of every request the case began and the server
// answers a new request. A server still busy then is an error of that case, and the suite
// stops: the harness restarts the server and runs the cases that remain against a fresh one.

// idleWait bounds the wait. The longest a correct server keeps a case's application running is
// close.on-disconnect's endless body on a server that never notices the client left: 6 s.
const idleWait = 10 * time.Second

// requestLog is the probe's log of every application call (pyapps/probe: RequestLog).
const requestLog = "requests.jsonl"

// requestLine is one line of the request log.
type requestLine struct {
	Event  string  `json:"event"` // begin or end
	ID     string  `json:"id"`
	Method string  `json:"method"`
	Target string  `json:"target"`
	How    string  `json:"how"`
	T      float64 `json:"t"`
}

// watchIdle is called before each case: once the case and its cleanups are done, the server
// must be idle again.
func watchIdle() {
	id := specCaseID(CurrentSpecReport())
	if id == "" {
		return
	}
	from := requestLogSize()
	DeferCleanup(func() { awaitIdle(id, from) })
}

func specCaseID(r SpecReport) string {
	for _, l := range r.Labels() {
		if id, ok := strings.CutPrefix(l, "case:"); ok {
			return id
		}
	}
	return ""
}

// logging reports whether the probe can log its requests where the suite can read them.
func logging() bool { return target.probeDir != "" && target.sideChannel == "" }

func requestLogSize() int64 {
	if !logging() {
		return 0
	}
	st, err := os.Stat(filepath.Join(target.probeDir, requestLog))
	if err != nil {
		return 0
	}
	return st.Size()
}

// unfinished returns the requests begun at or after offset from that have not ended, oldest first.
func unfinished(from int64) []requestLine {
	f, err := os.Open(filepath.Join(target.probeDir, requestLog))
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil
	}
	open := map[string]requestLine{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var l requestLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue // a line still being written
		}
		switch l.Event {
		case "begin":
			open[l.ID] = l
		case "end":
			delete(open, l.ID)
		}
	}
	out := make([]requestLine, 0, len(open))
	for _, l := range open {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out
}

// awaitIdle waits until the requests case id began have ended and the server answers a new one.
func awaitIdle(id string, from int64) {
	began := time.Now()
	deadline := began.Add(idleWait)
	if logging() {
		for open := unfinished(from); len(open) > 0; open = unfinished(from) {
			if time.Now().After(deadline) {
				oldest := open[0]
				busy(id, fmt.Sprintf("the application had not finished %s %s, begun %.1f s before (%d of the case's requests unfinished)",
					oldest.Method, oldest.Target, float64(time.Now().UnixMicro())/1e6-oldest.T, len(open)))
				return
			}
			time.Sleep(recordPoll)
		}
	}
	// A server can also be busy outside the application (blocked reading a request the client
	// abandoned): the next request would wait for it.
	wait := max(time.Until(deadline), readTimeout)
	resp, err := askTarget("/idle", rawhttp.Header{{Name: "Connection", Value: "close"}}, time.Now().Add(wait))
	switch {
	case err != nil:
		busy(id, fmt.Sprintf("a new request (GET %s/idle) got no answer within %.0f s: %v", target.mount, wait.Seconds(), err))
	case resp.Status != 200:
		busy(id, fmt.Sprintf("a new request (GET %s/idle) was answered %q, not 200", target.mount, resp.StatusLine))
	}
}

// busy reports case id as having left the server busy, keeping the case's own verdict beside
// the abort, which replaces it in Ginkgo's report.
func busy(id, why string) {
	r := CurrentSpecReport()
	b := catalog.Busy{
		Message: fmt.Sprintf("%s%s after %.0f s: %s", catalog.BusyPrefix, id, idleWait.Seconds(), why),
		State:   r.State.String(),
		Failure: r.Failure.Message,
	}
	AddReportEntry(catalog.BusyEntry, b)
	AbortSuite(b.Message)
}

// reportProgress appends each case's outcome to the file named by WSGISPEC_PROGRESS, which the
// harness reads to show how far a run has got.
func reportProgress(r SpecReport) {
	path := os.Getenv("WSGISPEC_PROGRESS")
	id := specCaseID(r)
	if path == "" || id == "" || r.State.Is(types.SpecStateSkipped) && r.Failure.Message == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", id, r.State)
}
