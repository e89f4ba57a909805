package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a child the harness started in a process group of its own, so that stopping it
// reaches every worker it forked. Its combined stdout and stderr are kept in a bounded buffer.
type Process struct {
	Argv []string
	Dir  string
	PID  int // also the process group ID

	out     *output
	exited  chan struct{}
	waitErr error // valid once exited is closed
	grace   time.Duration

	stopOnce sync.Once
	stopErr  error
	cleanup  []func()
}

// Default timings of a process's life.
const (
	DefaultStartTimeout = 20 * time.Second
	DefaultStopGrace    = 5 * time.Second
	// killWait bounds how long the group may take to vanish after SIGKILL: only a process stuck
	// in uninterruptible sleep survives that long, and then Stop reports it.
	killWait = 5 * time.Second
)

// spawn starts argv in its own process group with stdout and stderr captured. The child is
// stopped (Stop) when ctx is cancelled, so a Ctrl-C of wsgispec reaches every process it started.
func spawn(ctx context.Context, argv []string, dir string, env []string, grace time.Duration) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("empty command line")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	// An *os.File rather than an io.Writer: exec then copies nothing itself, so Wait returns when
	// the leader exits even if a forked worker still holds the pipe open.
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = groupLeader()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	w.Close()
	p := &Process{
		Argv:   argv,
		Dir:    dir,
		PID:    cmd.Process.Pid,
		out:    newOutput(headLimit, tailLimit),
		exited: make(chan struct{}),
		grace:  grace,
	}
	go func() {
		io.Copy(p.out, r)
		r.Close()
	}()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			p.Stop()
		case <-p.exited:
		}
	}()
	return p, nil
}

// Output is everything the process printed so far (head and tail when it printed a lot).
func (p *Process) Output() string { return p.out.String() }

// OutputTail is about the last n bytes of the output.
func (p *Process) OutputTail(n int) string { return p.out.Tail(n) }

// Exited is closed when the process group's leader has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitStatus describes how the leader ended ("exit status 1", "signal: killed"); empty while it runs.
func (p *Process) ExitStatus() string {
	select {
	case <-p.exited:
		if p.waitErr == nil {
			return "exit status 0"
		}
		return p.waitErr.Error()
	default:
		return ""
	}
}

// Stop ends the whole process group: SIGTERM, then SIGKILL after the grace period, whether or not
// the leader is still running (workers it left behind die too). It then removes the process's
// temporary files. Safe to call more than once and from several goroutines.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		signalGroup(p.PID, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(p.grace):
		}
		signalGroup(p.PID, syscall.SIGKILL)
		deadline := time.After(killWait)
		select {
		case <-p.exited:
		case <-deadline:
			p.stopErr = fmt.Errorf("process %d did not exit after SIGKILL", p.PID)
		}
		for left := GroupMembers(p.PID); len(left) > 0 && p.stopErr == nil; left = GroupMembers(p.PID) {
			select {
			case <-deadline:
				p.stopErr = fmt.Errorf("process group %d still has processes %v after SIGKILL", p.PID, left)
			case <-time.After(20 * time.Millisecond):
				signalGroup(p.PID, syscall.SIGKILL)
			}
		}
		for _, f := range p.cleanup {
			f()
		}
	})
	return p.stopErr
}

func signalGroup(pgid int, sig syscall.Signal) {
	// ESRCH (the group is already gone) is the expected outcome, not an error.
	_ = syscall.Kill(-pgid, sig)
}

// GroupMembers lists the live (non-zombie) processes whose process group is pgid, from /proc.
// Bench uses it to account a server's CPU across all its workers; tests use it to prove that
// nothing was left running.
func GroupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited while we looked
		}
		// Fields after the command name, which is parenthesised and may hold spaces or ')'.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// freePort asks the kernel for a port that is free on host now. Another process may take it
// before the server binds it; Start retries on that race.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until anything answers with an HTTP response (any status), the process p
// serving it exits (p may be nil: a server the user started), ctx ends or timeout passes.
func waitHTTP(ctx context.Context, url string, timeout time.Duration, p *Process) error {
	var exited <-chan struct{} // stays nil, never ready, when there is no process to watch
	if p != nil {
		exited = p.exited
	}
	client := &http.Client{
		Timeout: 2 * time.Second,
		// An https target's certificate is not verified: a server under test often has a
		// self-signed one, and here only whether it answers matters.
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		// A redirect is an answer: the server is up.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	deadline := time.Now().Add(timeout)
	delay := 20 * time.Millisecond
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited (%s) before answering HTTP", p.ExitStatus())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("did not answer HTTP at %s within %s", url, timeout)
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}
