package gateway

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The supervisor is a process without Python that owns the listening socket and runs N worker
// processes, each this same program re-executed with its own interpreter. Workers share the one
// inherited socket rather than each binding it with SO_REUSEPORT: on kernels with
// net.ipv4.tcp_migrate_req = 0 the connections queued on a reuseport socket are reset when its
// worker exits, which a restart or a reload would then turn into refused requests.
//
// A worker learns it is one from the environment: the listening socket is its fd 3 and it
// reports "loaded, now serving" by writing a byte to fd 4.

const (
	envWorker    = "WSGISPEC_GATEWAY_WORKER" // the worker's number; set only in workers
	listenerFD   = 3
	readyFD      = 4
	readyTimeout = 120 * time.Second // Django and FastAPI import in about a second; leave room
)

// WorkerListener returns the inherited socket and a function that tells the supervisor the
// worker is ready, when this process is a worker.
func WorkerListener() (ln net.Listener, ready func(), ok bool, err error) {
	if os.Getenv(envWorker) == "" {
		return nil, nil, false, nil
	}
	ln, err = net.FileListener(os.NewFile(listenerFD, "listener"))
	if err != nil {
		return nil, nil, true, fmt.Errorf("inherited listener: %w", err)
	}
	readyPipe := os.NewFile(readyFD, "ready")
	return ln, func() {
		readyPipe.Write([]byte{1})
		readyPipe.Close()
	}, true, nil
}

// Supervisor runs and replaces worker processes.
type Supervisor struct {
	Listener *net.TCPListener
	Workers  int
	// Argv is the command line of a worker: this program re-executed with its own arguments.
	Argv []string
	// Grace is how long a stopping worker gets to finish its requests before it is killed.
	Grace time.Duration
	Log   *Log

	mu      sync.Mutex
	workers map[int]*worker // by slot number
	exited  chan *worker
}

type worker struct {
	slot    int
	proc    *os.Process
	state   *os.ProcessState
	started time.Time
	retired bool // asked to stop (reload or shutdown): its exit is expected
	done    chan struct{}
}

// Run starts the workers and supervises them until ctx ends (graceful stop of all). HUP
// replaces the workers one at a time; a worker that dies is started again.
func (s *Supervisor) Run(ctx context.Context) error {
	s.workers = map[int]*worker{}
	s.exited = make(chan *worker, s.Workers*2)
	// Before any worker answers: a HUP that came before this would end the supervisor.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for i := 0; i < s.Workers; i++ {
		if _, err := s.start(i); err != nil {
			s.stopAll()
			return err
		}
	}
	s.Log.Infof("supervisor: %d workers serving on %s", s.Workers, s.Listener.Addr())
	crashes := 0
	for {
		select {
		case <-ctx.Done():
			s.stopAll()
			return nil
		case <-hup:
			s.Log.Infof("supervisor: HUP: replacing workers one by one")
			replaced := 0
			for i := 0; i < s.Workers; i++ {
				if err := s.replace(i); err != nil {
					s.Log.Errorf("supervisor: reload of worker %d: %v (the old one keeps serving)", i, err)
				} else {
					replaced++
				}
			}
			s.Log.Infof("supervisor: HUP: %d of %d workers replaced", replaced, s.Workers)
		case w := <-s.exited:
			if w.retired {
				continue
			}
			s.Log.Errorf("supervisor: worker %d (pid %d) exited: %v; starting a new one", w.slot, w.proc.Pid, w.state)
			if time.Since(w.started) < 2*time.Second {
				crashes++
			} else {
				crashes = 0
			}
			if crashes > 5 {
				// A worker that cannot stay up is not fixed by restarting it faster.
				time.Sleep(time.Duration(min(crashes, 10)) * 500 * time.Millisecond)
			}
			if _, err := s.start(w.slot); err != nil {
				s.Log.Errorf("supervisor: worker %d: %v", w.slot, err)
				go func() { s.exited <- w }() // try again on the next turn
			}
		}
	}
}

// start launches a worker into slot and waits until it has loaded its apps.
//
// The worker is started with syscall.ForkExec and the listener's own descriptor rather than
// through os/exec: os/exec would pass an *os.File, and taking its descriptor switches it to
// blocking mode. Blocking mode belongs to the socket, shared by every worker, so the running
// workers' accept calls would then block in the kernel, where closing the listener cannot reach
// them, and their graceful stop would hang.
func (s *Supervisor) start(slot int) (*worker, error) {
	readR, readW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readR.Close()
	var lfd uintptr
	rc, err := s.Listener.SyscallConn()
	if err != nil {
		readW.Close()
		return nil, err
	}
	rc.Control(func(fd uintptr) { lfd = fd })
	env := append(os.Environ(), envWorker+"="+strconv.Itoa(slot))
	if os.Getenv("GOMAXPROCS") == "" {
		// A worker runs one GIL's worth of Python; more Go processors than its share of the
		// cores only make its threads contend for that GIL (measured: 20% more CPU per request
		// for hello with 2 workers on 2 cores).
		env = append(env, "GOMAXPROCS="+strconv.Itoa(max(1, runtime.NumCPU()/s.Workers)))
	}
	pid, err := syscall.ForkExec(s.Argv[0], s.Argv, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2, lfd, readW.Fd()},
		// A worker must not outlive its supervisor, even one that was killed.
		Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM},
	})
	readW.Close()
	if err != nil {
		return nil, fmt.Errorf("starting worker %d: %w", slot, err)
	}
	proc, _ := os.FindProcess(pid)
	w := &worker{slot: slot, proc: proc, started: time.Now(), done: make(chan struct{})}
	go func() {
		w.state, _ = proc.Wait()
		close(w.done)
		s.exited <- w
	}()
	// The worker writes one byte once serving; the pipe closes without it if the worker dies.
	readR.SetReadDeadline(time.Now().Add(readyTimeout))
	var b [1]byte
	if n, err := readR.Read(b[:]); n == 0 {
		w.retired = true
		if os.IsTimeout(err) {
			proc.Kill()
			<-w.done
			return nil, fmt.Errorf("worker %d did not load its apps within %s", slot, readyTimeout)
		}
		<-w.done
		return nil, fmt.Errorf("worker %d exited while starting: %v", slot, w.state)
	}
	s.mu.Lock()
	s.workers[slot] = w
	s.mu.Unlock()
	return w, nil
}

// replace starts a new worker for slot, then drains the old one: the socket always has a
// worker accepting on it, so no connection is refused.
func (s *Supervisor) replace(slot int) error {
	s.mu.Lock()
	old := s.workers[slot]
	s.mu.Unlock()
	if _, err := s.start(slot); err != nil {
		return err
	}
	if old != nil {
		s.retire(old)
	}
	return nil
}

func (s *Supervisor) retire(w *worker) {
	w.retired = true
	w.proc.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(s.Grace):
		s.Log.Errorf("supervisor: worker %d did not stop within %s; killed", w.slot, s.Grace)
		w.proc.Kill()
		<-w.done
	}
}

func (s *Supervisor) stopAll() {
	s.mu.Lock()
	ws := make([]*worker, 0, len(s.workers))
	for _, w := range s.workers {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() { defer wg.Done(); s.retire(w) }()
	}
	wg.Wait()
}
