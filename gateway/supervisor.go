//go:build cgo && gateway

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
// A worker learns it is one from the environment: the listening socket is its fd 3, it
// reports "loaded, now serving" by writing a byte to fd 4, and fd 5 is the scoreboard the
// workers balance their connections through, its slot in the environment too.

const (
	envWorker    = "WSGISPEC_GATEWAY_WORKER" // the worker's number; set only in workers
	envBoardSlot = "WSGISPEC_GATEWAY_BOARD_SLOT"
	listenerFD   = 3
	readyFD      = 4
	boardFD      = 5
	readyTimeout = 120 * time.Second // Django and FastAPI import in about a second; leave room
)

// Inherited is what a worker gets from its supervisor.
type Inherited struct {
	Listener   net.Listener
	Scoreboard *Scoreboard // for Options.Scoreboard
	readyPipe  *os.File
}

// Ready tells the supervisor the worker has loaded its apps and is serving.
func (in *Inherited) Ready() {
	in.readyPipe.Write([]byte{1})
	in.readyPipe.Close()
}

// WorkerListener returns what the supervisor passed down, when this process is a worker.
func WorkerListener() (in *Inherited, ok bool, err error) {
	if os.Getenv(envWorker) == "" {
		return nil, false, nil
	}
	ln, err := net.FileListener(os.NewFile(listenerFD, "listener"))
	if err != nil {
		return nil, true, fmt.Errorf("inherited listener: %w", err)
	}
	slot, err := strconv.Atoi(os.Getenv(envBoardSlot))
	if err != nil {
		return nil, true, fmt.Errorf("inherited scoreboard: slot %q", os.Getenv(envBoardSlot))
	}
	boardFile := os.NewFile(boardFD, "scoreboard")
	board, err := mapScoreboard(boardFile, slot)
	boardFile.Close() // the mapping outlives the descriptor
	if err != nil {
		return nil, true, err
	}
	return &Inherited{Listener: ln, Scoreboard: board, readyPipe: os.NewFile(readyFD, "ready")}, true, nil
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
	// The scoreboard has a line for every worker process, a replaced one and its successor
	// included, so it has twice as many as there are worker slots; boardUsed marks the taken.
	board     *Scoreboard
	boardFile *os.File
	boardUsed []bool
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
	var err error
	if s.board, s.boardFile, err = newScoreboard(2 * s.Workers); err != nil {
		return err
	}
	defer s.boardFile.Close()
	s.boardUsed = make([]bool, 2*s.Workers)
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
	boardSlot := s.takeBoardSlot()
	env := append(os.Environ(), envWorker+"="+strconv.Itoa(slot), envBoardSlot+"="+strconv.Itoa(boardSlot))
	if os.Getenv("GOMAXPROCS") == "" {
		// A worker runs one GIL's worth of Python; more Go processors than its share of the
		// cores only make its threads contend for that GIL (measured: 20% more CPU per request
		// for hello with 2 workers on 2 cores).
		env = append(env, "GOMAXPROCS="+strconv.Itoa(max(1, runtime.NumCPU()/s.Workers)))
	}
	var pid int
	err = forkWithTimerSlack(func(appSlack int) error {
		if appSlack > 0 {
			env = append(env, envAppTimerSlack+"="+strconv.Itoa(appSlack))
		}
		var err error
		pid, err = syscall.ForkExec(s.Argv[0], s.Argv, &syscall.ProcAttr{
			Env:   env,
			Files: []uintptr{0, 1, 2, lfd, readW.Fd(), s.boardFile.Fd()},
			// A worker must not outlive its supervisor, even one that was killed.
			Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM},
		})
		return err
	})
	readW.Close()
	if err != nil {
		s.releaseBoardSlot(boardSlot)
		return nil, fmt.Errorf("starting worker %d: %w", slot, err)
	}
	proc, _ := os.FindProcess(pid)
	w := &worker{slot: slot, proc: proc, started: time.Now(), done: make(chan struct{})}
	go func() {
		w.state, _ = proc.Wait()
		s.releaseBoardSlot(boardSlot)
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

// takeBoardSlot finds a scoreboard line no running worker uses. There is always one: at most
// one worker per slot is being replaced at a time.
func (s *Supervisor) takeBoardSlot() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, used := range s.boardUsed {
		if !used {
			s.boardUsed[i] = true
			return i
		}
	}
	panic("supervisor: every scoreboard line is taken")
}

// releaseBoardSlot clears the line of a worker that has exited: it accepts nothing any more.
func (s *Supervisor) releaseBoardSlot(i int) {
	s.board.clear(i)
	s.mu.Lock()
	s.boardUsed[i] = false
	s.mu.Unlock()
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
