package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testdataDir(t *testing.T, elem ...string) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func helloApp(t *testing.T) App {
	return App{Dir: testdataDir(t, "hello"), Module: "hello", Callable: "application"}
}

// lifecycleAdapter runs testdata/lifecycle.py in one of its modes. The command line carries a
// token unique to the test so that leftover processes can be found in /proc by it.
func lifecycleAdapter(t *testing.T, mode string) (*Adapter, string) {
	script := testdataDir(t, "lifecycle.py")
	token := fmt.Sprintf("--token=%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	return &Adapter{
		Name: "lifecycle-" + mode,
		Command: func(l Launch) (Command, error) {
			return Command{Argv: []string{DefaultPython, script, mode, fmt.Sprint(l.Port), token}, Dir: l.App.Dir}, nil
		},
	}, token
}

// processesWith lists the live processes whose /proc/PID/<file> ("cmdline" or "environ")
// contains needle: the tests put a unique token there to find what a run left behind.
func processesWith(file, needle string) []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), file))
		if err != nil || !strings.Contains(string(b), needle) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := strings.LastIndexByte(string(st), ')'); i >= 0 && strings.HasPrefix(string(st[i+1:]), " Z") {
				continue // a zombie is dead; only its parent's wait is missing
			}
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		found = append(found, e.Name()+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return found
}

// assertNoProcessLeft fails the test if a process with needle in /proc/PID/<file> still runs
// (after a moment for the kernel to reap what was killed last).
func assertNoProcessLeft(t *testing.T, file, needle string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && len(processesWith(file, needle)) > 0; {
		time.Sleep(50 * time.Millisecond)
	}
	if left := processesWith(file, needle); len(left) > 0 {
		t.Errorf("processes left running: %v", left)
	}
}

func TestStartReportsAServerThatExitsAtOnce(t *testing.T) {
	a, token := lifecycleAdapter(t, "exit")
	began := time.Now()
	_, err := Start(context.Background(), a, helloApp(t), Options{StartTimeout: 10 * time.Second})
	var se *StartError
	if !errors.As(err, &se) {
		t.Fatalf("Start = %v, want a *StartError", err)
	}
	for _, want := range []string{"exited (exit status 3) before answering HTTP", "refusing to start: bad configuration"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("took %s to notice the exit; it should not wait for the start timeout", d)
	}
	assertNoProcessLeft(t, "cmdline", token)
}

func TestStartReportsAServerThatNeverListens(t *testing.T) {
	a, token := lifecycleAdapter(t, "never-listen")
	_, err := Start(context.Background(), a, helloApp(t), Options{StartTimeout: time.Second, StopGrace: time.Second})
	if err == nil {
		t.Fatal("Start succeeded on a server that never listens")
	}
	for _, want := range []string{"server lifecycle-never-listen did not answer HTTP", "within 1s", "started, not listening"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	assertNoProcessLeft(t, "cmdline", token)
}

func TestStartBoundsTheOutputOfAFloodingServer(t *testing.T) {
	a, token := lifecycleAdapter(t, "flood")
	_, err := Start(context.Background(), a, helloApp(t), Options{StartTimeout: time.Second, StopGrace: time.Second})
	if err == nil {
		t.Fatal("Start succeeded on a server that never listens")
	}
	if !strings.Contains(err.Error(), "flood xxxx") {
		t.Errorf("error does not quote the output:\n%.300s", err)
	}
	if n := len(err.Error()); n > startOutputTail+1000 {
		t.Errorf("error is %d bytes; the output quoted should be bounded to about %d", n, startOutputTail)
	}
	assertNoProcessLeft(t, "cmdline", token)
}

func TestStopKillsAGroupThatIgnoresTERM(t *testing.T) {
	a, token := lifecycleAdapter(t, "ignore-term")
	const grace = 500 * time.Millisecond
	s, err := Start(context.Background(), a, helloApp(t), Options{StopGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(GroupMembers(s.PID)) == 2 }, "the server's forked worker to appear")
	began := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < grace {
		t.Errorf("Stop returned after %s, before the %s grace period: TERM cannot have stopped this server", d, grace)
	}
	if got := s.ExitStatus(); got != "signal: killed" {
		t.Errorf("exit status %q, want signal: killed", got)
	}
	if left := GroupMembers(s.PID); len(left) > 0 {
		t.Errorf("process group %d still has %v", s.PID, left)
	}
	assertNoProcessLeft(t, "cmdline", token)
}

func TestCancellingTheContextStopsTheServer(t *testing.T) {
	a, token := lifecycleAdapter(t, "serve")
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, a, helloApp(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancel() // what Ctrl-C does through signal.NotifyContext
	select {
	case <-s.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("the server still runs 10s after its context was cancelled")
	}
	s.Stop() // waits for the cleanup the cancellation started
	assertNoProcessLeft(t, "cmdline", token)
}

func TestStartRetriesWhenThePortWasTaken(t *testing.T) {
	script := testdataDir(t, "lifecycle.py")
	var attempts atomic.Int32
	a := &Adapter{
		Name: "racy",
		Command: func(l Launch) (Command, error) {
			if attempts.Add(1) == 1 {
				return Command{Argv: []string{DefaultPython, "-c", "raise SystemExit('OSError: [Errno 98] Address already in use')"}}, nil
			}
			return Command{Argv: []string{DefaultPython, script, "serve", fmt.Sprint(l.Port)}}, nil
		},
	}
	s, err := Start(context.Background(), a, helloApp(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d attempts, want 2 (one bind race, one success)", n)
	}
}

func TestStartRejectsAnInvalidApp(t *testing.T) {
	a, _ := lifecycleAdapter(t, "serve")
	for _, app := range []App{
		{Dir: testdataDir(t, "hello"), Module: "hello; import os", Callable: "application"},
		{Dir: testdataDir(t, "hello"), Module: "hello", Callable: "app()"},
		{Dir: "relative/dir", Module: "hello", Callable: "application"},
		{Dir: testdataDir(t, "no-such-dir"), Module: "hello", Callable: "application"},
	} {
		if _, err := Start(context.Background(), a, app, Options{}); err == nil || !strings.Contains(err.Error(), "cannot start") {
			t.Errorf("Start(%+v) = %v, want a cannot start error", app, err)
		}
	}
}

// TestBuiltinAdaptersServeAnApp starts every installed built-in adapter on a small app and checks
// that it answers, that the app's environment and the passed variable reached it and nothing
// else of wsgispec's did, and that stopping it leaves nothing.
func TestBuiltinAdaptersServeAnApp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every installed server")
	}
	t.Setenv("WSGISPEC_TEST_PASSED", "passed-on")
	t.Setenv("WSGISPEC_TEST_DROPPED", "left-behind")
	// The gateway is bin/wsgispec serve.
	env := Env{ToolDir: os.Getenv("WSGISPEC_BIN"), PassEnv: []string{"WSGISPEC_TEST_PASSED"}}
	for _, d := range Detect(context.Background(), Adapters(ForConform), env) {
		t.Run(d.Adapter.Name, func(t *testing.T) {
			if !d.Installed {
				t.Skipf("not installed: %s", d.Reason)
			}
			app := helloApp(t)
			app.Env = map[string]string{"HELLO_ENV": "reached"}
			s, err := Start(context.Background(), d.Adapter, app, Options{Env: env})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			// No keep-alive: Apache -X would finish the idle connection before heeding SIGTERM.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
			resp, err := client.Get(s.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := "HELLO_ENV=reached; PASSED=passed-on; DROPPED=\n"; resp.StatusCode != 200 || !strings.HasSuffix(string(body), want) {
				t.Errorf("GET / = %d %q, want 200 and %q; server output:\n%s", resp.StatusCode, body, want, s.Output())
			}
			if err := s.Stop(); err != nil {
				t.Error(err)
			}
			if left := GroupMembers(s.PID); len(left) > 0 {
				t.Errorf("process group %d still has %v after Stop", s.PID, left)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
