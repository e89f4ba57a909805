//go:build cgo && gateway

package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wsgispec/wsgispec/internal/procstat"
)

// These tests run the built binary (supervisor and workers are processes); `make test` sets
// WSGISPEC_BIN.

type gatewayProcess struct {
	cmd  *exec.Cmd
	addr string
	log  string
	dir  string // the app's record directory (GWTEST_DIR)
}

func startBinary(t *testing.T, args ...string) *gatewayProcess {
	t.Helper()
	bin := os.Getenv("WSGISPEC_BIN")
	if bin == "" {
		t.Skip("WSGISPEC_BIN is not set: run `make test` to build the binary these tests need")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	gp := &gatewayProcess{addr: addr, log: filepath.Join(dir, "gateway.log"), dir: dir}
	app, _ := filepath.Abs("testdata/app")
	argv := append([]string{"serve", "--app-dir", app, "--app", "gwtest:application", "--listen", addr, "--log", gp.log}, args...)
	gp.cmd = exec.Command(filepath.Join(bin, "wsgispec"), argv...)
	gp.cmd.Env = append(os.Environ(), "GWTEST_DIR="+dir)
	gp.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	gp.cmd.Stderr = io.Discard
	if err := gp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-gp.cmd.Process.Pid, syscall.SIGKILL)
		gp.cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		// Every worker is up once the supervisor says so; the first answers sooner.
		if b, _ := os.ReadFile(gp.log); strings.Contains(string(b), "workers serving on") {
			return gp
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not log its workers serving within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (gp *gatewayProcess) get(path string) (int, string, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + gp.addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestWorkerDeathIsRecoveredFrom(t *testing.T) {
	gp := startBinary(t, "--workers", "2")
	for _, path := range []string{"/exit", "/segv"} {
		_, _, err := gp.get(path)
		if err == nil {
			t.Errorf("%s: the request whose worker died must end with an error, not a response", path)
		}
		start := time.Now()
		if code, _, err := gp.get("/pid"); err != nil || code != 200 {
			t.Fatalf("after %s: a new connection failed: %v %d", path, err, code)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("after %s: a new connection took %s to be served", path, d)
		}
	}
	waitFor(t, "the supervisor to log the restarts", func() bool {
		b, _ := os.ReadFile(gp.log)
		return strings.Count(string(b), "starting a new one") >= 2
	})
}

// While clients request without pause, HUP replaces every worker, new ones accepting before old
// ones drain: no request may fail, neither one the kernel handed to an old worker in its last
// instant nor one sent on a keep-alive connection as the old worker drains. The keep-alive
// clients POST, because net/http's client silently retries a GET that meets a closed connection.
func TestReloadUnderLoadDropsNothing(t *testing.T) {
	for _, keepAlive := range []bool{false, true} {
		name := map[bool]string{false: "new-connection-each", true: "keep-alive"}[keepAlive]
		t.Run(name, func(t *testing.T) { reloadUnderLoad(t, keepAlive) })
	}
}

func reloadUnderLoad(t *testing.T, keepAlive bool) {
	gp := startBinary(t, "--workers", "2")
	before := map[string]bool{}
	for range 20 {
		_, pid, _ := gp.get("/pid")
		before[pid] = true
	}
	var failures, served atomic.Int64
	var servedByOld atomic.Value // a pid from before the HUP that answered after it completed
	var replaced atomic.Bool
	var firstFailure atomic.Value
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: !keepAlive}}
			defer client.CloseIdleConnections()
			for ctx.Err() == nil {
				sent := replaced.Load()
				resp, err := client.Post("http://"+gp.addr+"/pid", "text/plain", nil)
				var pid []byte
				if err == nil {
					pid, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprint(resp, " ", err))
					continue
				}
				served.Add(1)
				if sent && before[string(pid)] {
					servedByOld.CompareAndSwap(nil, string(pid))
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	gp.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the supervisor to log the replacement", func() bool {
		b, _ := os.ReadFile(gp.log)
		return strings.Contains(string(b), "HUP: 2 of 2 workers replaced")
	})
	replaced.Store(true)
	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()
	n, total := failures.Load(), served.Load()+failures.Load()
	if pid := servedByOld.Load(); pid != nil {
		t.Errorf("worker %s, from before the HUP, still answered after the supervisor said every worker was replaced", pid)
	}
	t.Logf("%d of %d requests failed during HUP (first: %v)", n, total, firstFailure.Load())
	if n > 0 {
		t.Errorf("%d of %d requests failed during HUP (first: %v)", n, total, firstFailure.Load())
	}
}

// A worker whose threads are all busy leaves new connections to an idle worker: with one thread
// each, a request sent while a slow one runs is answered by the other worker. Without
// back-pressure the busy worker takes about half of them and they wait for its thread.
func TestBusyWorkerLeavesConnectionsToIdleOne(t *testing.T) {
	gp := startBinary(t, "--workers", "2", "--threads", "1")
	sleeping := filepath.Join(gp.dir, "sleeping")
	for i := range 6 {
		os.Remove(sleeping)
		slow := make(chan string, 1)
		go func() {
			_, pid, _ := gp.get("/pid?1")
			slow <- pid
		}()
		waitFor(t, "the slow request to run", func() bool { _, err := os.Stat(sleeping); return err == nil })
		_, quick, err := gp.get("/pid")
		if err != nil {
			t.Fatal(err)
		}
		if busy := <-slow; quick == busy {
			t.Fatalf("try %d: worker %s, busy with the slow request on its only thread, accepted the next connection too", i, busy)
		}
	}
}

// Keep-alive connections opened in one burst, before any request is sent (a client pool
// starting up), are spread over the workers rather than all taken by the one that happened to
// be awake. Without the scoreboard, one worker takes nearly all of them.
func TestConnectionBurstSpreadsOverWorkers(t *testing.T) {
	const conns = 32
	gp := startBinary(t, "--workers", "2")
	for try := range 3 {
		clients := make([]*keepAliveClient, conns)
		for i := range clients {
			clients[i] = &keepAliveClient{addr: gp.addr}
			defer clients[i].close()
			if err := clients[i].connect(); err != nil {
				t.Fatal(err)
			}
		}
		perWorker := map[string]int{}
		for _, c := range clients {
			pid, err := c.pid()
			if err != nil {
				t.Fatal(err)
			}
			perWorker[pid]++
		}
		for _, c := range clients {
			c.close()
		}
		if len(perWorker) != 2 || fewest(perWorker) < conns*3/8 {
			t.Fatalf("try %d: %d connections opened at once, then one request on each: expected at least %d on each of the 2 workers, got connections per worker pid %v",
				try, conns, conns*3/8, perWorker)
		}
		time.Sleep(100 * time.Millisecond) // the workers see the closes before the next burst
	}
}

// Keep-alive connections that all went to one worker while the other was down (killed, then
// restarted) are spread again: the crowded worker closes some after their responses, and the
// clients' new connections go to the other. Without that, the restarted worker would serve none
// of them for as long as they stay open.
func TestKeepAliveConnectionsRebalanceAfterRestart(t *testing.T) {
	const conns = 16
	gp := startBinary(t, "--workers", "2")
	_, victim, err := gp.get("/pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(victim)
	syscall.Kill(pid, syscall.SIGKILL)
	// While it is down, every connection goes to the survivor.
	clients := make([]*keepAliveClient, conns)
	for i := range clients {
		clients[i] = &keepAliveClient{addr: gp.addr}
		defer clients[i].close()
		if _, err := clients[i].pid(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the killed worker's replacement to serve", func() bool {
		_, p, err := gp.get("/pid")
		return err == nil && p != victim && p != clients[0].last
	})
	perWorker := map[string]int{}
	for range 5 { // rounds of one request per client, reconnecting when told to close
		perWorker = map[string]int{}
		for _, c := range clients {
			p, err := c.pid()
			if err != nil {
				t.Fatal(err)
			}
			perWorker[p]++
		}
	}
	if len(perWorker) != 2 || fewest(perWorker) < conns/4 {
		t.Fatalf("%d keep-alive clients that all connected while one worker was down: expected the restarted worker to serve at least %d of their requests after a few rounds, got requests per worker pid %v",
			conns, conns/4, perWorker)
	}
}

// fewest is the smallest count in perWorker.
func fewest(perWorker map[string]int) int {
	least := -1
	for _, n := range perWorker {
		if least < 0 || n < least {
			least = n
		}
	}
	return least
}

// keepAliveClient sends GET /pid on one connection, which it opens when it has none: at first,
// or after the server closed the last one.
type keepAliveClient struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	last string // the pid that answered last
}

func (c *keepAliveClient) connect() error {
	if c.conn != nil {
		return nil
	}
	conn, err := net.Dial("tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn, c.r = conn, bufio.NewReader(conn)
	return nil
}

func (c *keepAliveClient) pid() (string, error) {
	if err := c.connect(); err != nil {
		return "", err
	}
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write([]byte("GET /pid HTTP/1.1\r\nHost: t\r\n\r\n")); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Close {
		c.close()
	}
	c.last = string(b)
	return c.last, err
}

func (c *keepAliveClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// A worker that leaves new connections to a less loaded one waits for them without burning
// CPU: idle, with its keep-alive connections open and the other worker's closed, it uses
// almost none.
func TestDeferringWorkerIdles(t *testing.T) {
	gp := startBinary(t, "--workers", "2", "--threads", "1")
	byWorker := map[string][]*keepAliveClient{}
	for range 16 {
		c := &keepAliveClient{addr: gp.addr}
		defer c.close()
		pid, err := c.pid()
		if err != nil {
			t.Fatal(err)
		}
		byWorker[pid] = append(byWorker[pid], c)
	}
	if len(byWorker) != 2 {
		t.Fatalf("16 connections: expected them on both workers, got %d worker(s)", len(byWorker))
	}
	var pids []string
	for pid, clients := range byWorker {
		pids = append(pids, pid)
		if len(pids) == 2 { // close the second worker's: the first now has more than it
			for _, c := range clients {
				c.close()
			}
		}
	}
	// One request to the first worker fills its only thread, which interrupts its Accept; once
	// the response is done it looks again, now with more connections than the other, and from
	// then on leaves new ones to it.
	if _, err := byWorker[pids[0]][0].pid(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	group := gp.cmd.Process.Pid // the supervisor leads the group; it idles throughout
	before, err := procstat.System.GroupCPU(group)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	after, err := procstat.System.GroupCPU(group)
	if err != nil {
		t.Fatal(err)
	}
	if used := procstat.CPUBetween(before, after); used > 200*time.Millisecond {
		t.Errorf("workers %v, one holding idle connections and the other none: expected them idle, they used %s of CPU in 1 s", pids, used)
	}
}

// TERM lets a request in flight finish, then the gateway exits 0.
func TestTermDrainsRequestsInFlight(t *testing.T) {
	gp := startBinary(t, "--workers", "2")
	done := make(chan string, 1)
	go func() {
		code, body, err := gp.get("/sleep?1")
		done <- fmt.Sprint(code, " ", body, " ", err)
	}()
	time.Sleep(300 * time.Millisecond)
	gp.cmd.Process.Signal(syscall.SIGTERM)
	if got := <-done; got != "200 slept <nil>" {
		t.Errorf("the request in flight during TERM: expected 200 slept, got %s", got)
	}
	exited := make(chan error, 1)
	go func() { exited <- gp.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the gateway must exit 0 after TERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the gateway did not exit within 10 s of TERM")
	}
}

// A thousand connections that never finish their headers must not keep a normal request
// waiting.
func TestSlowlorisDoesNotStarveOthers(t *testing.T) {
	gp := startBinary(t, "--workers", "1")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 1000 {
		c, err := net.Dial("tcp", gp.addr)
		if err != nil {
			t.Fatalf("opening slow connection %d: %v", len(conns), err)
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: "))
		conns = append(conns, c)
	}
	start := time.Now()
	code, _, err := gp.get("/pid")
	if err != nil || code != 200 {
		t.Fatalf("a normal request beside 1000 slow ones failed: %v %d", err, code)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a normal request beside 1000 slow ones took %s", d)
	}
}

// An app that cannot be imported stops `wsgispec serve` at start with exit 2 and the traceback,
// rather than leaving a supervisor restarting workers that can never load. The traceback is the
// app's alone: ending the interpreter adds nothing (it used to add threading's AssertionError
// when the app had imported threading, as Django does).
func TestServeExitsWhenTheAppCannotLoad(t *testing.T) {
	bin := os.Getenv("WSGISPEC_BIN")
	if bin == "" {
		t.Skip("WSGISPEC_BIN is not set: run `make test` to build the binary this test needs")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.py"), []byte("import threading\nimport missing_module\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "wsgispec"), "serve", "--app-dir", dir, "--app", "broken:app",
		"--listen", "127.0.0.1:0", "--workers", "2")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("wsgispec serve kept running with an app that cannot be imported")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "No module named 'missing_module'") {
		t.Errorf("expected exit 2 with the import error, got %v:\n%s", err, out)
	}
	if strings.Contains(string(out), "Exception ignored") {
		t.Errorf("expected only the app's traceback, got more:\n%s", out)
	}
}

// TestAppThreadsKeepTheirTimerSlack: the threads that run the app, and those the app starts,
// keep the supervisor's timer slack (the worker's runtime threads get workerTimerSlack), so the
// app's own sleeps are as precise as under any other server.
func TestAppThreadsKeepTheirTimerSlack(t *testing.T) {
	gp := startBinary(t, "--workers", "1")
	code, body, err := gp.get("/timerslack")
	if err != nil || code != 200 {
		log, _ := os.ReadFile(gp.log)
		t.Fatalf("GET /timerslack: %d %v\n%s\nlog:\n%s", code, err, body, log)
	}
	var got struct{ Request, Started int }
	decodeJSON(t, body, &got)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/timerslack_ns", gp.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	supervisor, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Request != supervisor || got.Started != supervisor {
		t.Errorf("the app's threads have timer slack %d ns (request) and %d ns (a thread it started); want the supervisor's %d ns",
			got.Request, got.Started, supervisor)
	}
}
