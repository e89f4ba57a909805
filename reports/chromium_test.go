package reports_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium, which `make deps` installs.
const chromiumPath = "/usr/bin/chromium"

// chromiumFlags keep headless Chromium from reaching the network on its own (updates, sync,
// QUIC probes), so every request the browser makes is one a page asked for.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
	"--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
	"--remote-debugging-pipe", "--window-size=1400,900",
}

// browser is a minimal Chrome DevTools Protocol client over --remote-debugging-pipe: Chromium
// reads NUL-terminated JSON commands from fd 3 and writes responses and events to fd 4. A pipe
// needs no port and no websocket, and ends when the process does.
type browser struct {
	cmd    *exec.Cmd
	toB    io.WriteCloser
	stderr bytes.Buffer

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	events  []cdpMessage
	eventCh chan struct{} // signalled (non-blocking) on each event
	readErr error
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser starts Chromium with a fresh profile in its own process group; t.Cleanup stops it.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	toBR, toBW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromBR, fromBW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+t.TempDir(), "about:blank")
	b := &browser{waiting: map[int]chan cdpMessage{}, eventCh: make(chan struct{}, 1), toB: toBW}
	b.cmd = exec.Command(chromiumPath, args...)
	b.cmd.ExtraFiles = []*os.File{toBR, fromBW} // fd 3, fd 4
	b.cmd.Stderr = &b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	toBR.Close()
	fromBW.Close()
	exited := make(chan struct{})
	go func() { b.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		b.call(context.Background(), "", "Browser.close", nil)
		toBW.Close()
		pgid := b.cmd.Process.Pid
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(3 * time.Second):
				syscall.Kill(-pgid, syscall.SIGKILL)
				<-exited
			}
		}
		// Chromium's helpers (zygote, renderers) share its process group and may outlive it.
		syscall.Kill(-pgid, syscall.SIGKILL)
	})
	go b.read(fromBR)
	return b
}

// read dispatches everything Chromium writes: responses to their waiting caller, events to the log.
func (b *browser) read(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = fmt.Errorf("DevTools pipe closed: %v", err)
			for id, ch := range b.waiting {
				close(ch)
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.waiting[m.ID]; ok {
				ch <- m
				delete(b.waiting, m.ID)
			}
		} else {
			b.events = append(b.events, m)
			select {
			case b.eventCh <- struct{}{}:
			default:
			}
		}
		b.mu.Unlock()
	}
}

// call sends one command (to a page's session when session is set) and decodes its result.
func (b *browser) call(ctx context.Context, session, method string, params any, result ...any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return b.readErr
	}
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	out, _ := json.Marshal(msg)
	if _, err := b.toB.Write(append(out, 0)); err != nil {
		return fmt.Errorf("%s: %v", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: %v", method, b.readErr)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if len(result) > 0 {
			return json.Unmarshal(m.Result, result[0])
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer from Chromium in 30 s", method)
	}
}

// waitEvent waits for an event of a session and returns its index in the log.
func (b *browser) waitEvent(session, method string, from int, timeout time.Duration) (int, error) {
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		for i := from; i < len(b.events); i++ {
			if b.events[i].Method == method && b.events[i].SessionID == session {
				b.mu.Unlock()
				return i, nil
			}
		}
		b.mu.Unlock()
		select {
		case <-b.eventCh:
		case <-deadline:
			return 0, fmt.Errorf("no %s within %s", method, timeout)
		}
	}
}

// tab is one page target attached in flat mode.
type tab struct {
	b       *browser
	session string
}

func (b *browser) newTab(ctx context.Context) (*tab, error) {
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	t := &tab{b: b, session: attached.SessionID}
	for _, domain := range []string{"Page", "Runtime", "Log", "Network"} {
		if err := b.call(ctx, t.session, domain+".enable", nil); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// pageLoad is what a page did while loading.
type pageLoad struct {
	problems []string // console errors, exceptions, requests that left file:
	end      int      // the event log's length once loaded: where later problems start
}

// open navigates to url, waits for its load event and a moment for scripts, and reports every
// console error, uncaught exception and non-file: request seen since the navigation began.
func (t *tab) open(ctx context.Context, url string) (pageLoad, error) {
	t.b.mu.Lock()
	from := len(t.b.events)
	t.b.mu.Unlock()
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := t.b.call(ctx, t.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return pageLoad{}, err
	}
	if nav.ErrorText != "" {
		return pageLoad{}, fmt.Errorf("navigating to %s: %s", url, nav.ErrorText)
	}
	if _, err := t.b.waitEvent(t.session, "Page.loadEventFired", from, 30*time.Second); err != nil {
		return pageLoad{}, fmt.Errorf("%s: %v", url, err)
	}
	// One round trip through the renderer: messages logged by the page's scripts before this
	// are in the event log once it answers.
	if _, err := t.eval(ctx, "document.readyState"); err != nil {
		return pageLoad{}, err
	}
	t.b.mu.Lock()
	end := len(t.b.events)
	t.b.mu.Unlock()
	return pageLoad{problems: t.problems(from), end: end}, nil
}

// problems lists the console errors, exceptions and non-file: requests logged since from.
func (t *tab) problems(from int) []string {
	t.b.mu.Lock()
	events := append([]cdpMessage(nil), t.b.events[from:]...)
	t.b.mu.Unlock()
	var out []string
	for _, e := range events {
		if e.SessionID != t.session {
			continue
		}
		switch e.Method {
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string `json:"type"`
				Args []struct {
					Value       any    `json:"value"`
					Description string `json:"description"`
				} `json:"args"`
			}
			json.Unmarshal(e.Params, &p)
			if p.Type == "error" || p.Type == "assert" {
				var args []string
				for _, a := range p.Args {
					if a.Description != "" {
						args = append(args, a.Description)
					} else {
						args = append(args, fmt.Sprint(a.Value))
					}
				}
				out = append(out, fmt.Sprintf("console.%s: %s", p.Type, strings.Join(args, " ")))
			}
		case "Runtime.exceptionThrown":
			var p struct {
				Details struct {
					Text       string `json:"text"`
					URL        string `json:"url"`
					LineNumber int    `json:"lineNumber"`
					Exception  struct {
						Description string `json:"description"`
					} `json:"exception"`
				} `json:"exceptionDetails"`
			}
			json.Unmarshal(e.Params, &p)
			d := p.Details
			out = append(out, fmt.Sprintf("uncaught exception at %s:%d: %s %s", d.URL, d.LineNumber+1, d.Text, d.Exception.Description))
		case "Log.entryAdded":
			var p struct {
				Entry struct {
					Level, Text, URL string
				} `json:"entry"`
			}
			json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" {
				out = append(out, fmt.Sprintf("browser log error: %s %s", p.Entry.Text, p.Entry.URL))
			}
		case "Network.requestWillBeSent":
			var p struct {
				Request struct {
					URL string `json:"url"`
				} `json:"request"`
			}
			json.Unmarshal(e.Params, &p)
			if !strings.HasPrefix(p.Request.URL, "file:") {
				out = append(out, "request leaving the file: "+p.Request.URL)
			}
		}
	}
	return out
}

// eval runs a JavaScript expression in the page and returns its JSON value.
func (t *tab) eval(ctx context.Context, expr string) (json.RawMessage, error) {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := t.b.call(ctx, t.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r); err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, fmt.Errorf("evaluating %q: %s", expr, r.ExceptionDetails.Text)
	}
	return r.Result.Value, nil
}

// screenshot saves the viewport as a PNG.
func (t *tab) screenshot(ctx context.Context, path string) error {
	var r struct {
		Data string `json:"data"`
	}
	if err := t.b.call(ctx, t.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}
