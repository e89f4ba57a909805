package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// peakLimitKB is the memory wsgispec may reach whatever a server sends (the 200 MB).
const peakLimitKB = 200 << 10

// runTimeout bounds one command's run against one mode.
const runTimeout = 2 * time.Minute

// parallelRuns is how many runs go at once: most of a run is waiting for a server that does not
// answer, so more than the two cores.
const parallelRuns = 4

// expected is, per command and mode, the exit code and what the run's JSON (or, for a bench that
// could not measure, its error) must say: the cap passed, or what else the server did.
var expected = map[string]map[Mode]struct {
	code    int
	message string
}{
	"conform": {
		EndlessChunked: {1, "response body longer than 32 MiB (the client's cap)"},
		HugeLength:     {1, "response body longer than 32 MiB (the client's cap)"},
		EndlessHeaders: {1, "response has more than 1000 header fields (the client's cap)"},
		Drip:           {1, "i/o timeout"},
		Garbage:        {1, "response status line longer than 8 KiB (the client's cap)"},
		ResetMidBody:   {1, "connection reset by peer"},
		NoRead:         {1, "i/o timeout"},
		Silent:         {1, "i/o timeout"},
		WrongAnswer:    {1, "not the probe app's environ"},
	},
	"matrix": {
		EndlessChunked: {1, "response body longer than 32 MiB (the client's cap)"},
		HugeLength:     {1, "response body longer than 32 MiB (the client's cap)"},
		EndlessHeaders: {1, "response header section longer than 256 KiB (the client's cap)"},
		Drip:           {1, "gave no usable answer within 10s"},
		Garbage:        {1, "response header section longer than 256 KiB (the client's cap)"}, // net/http caps the status line with the head
		ResetMidBody:   {1, "connection reset by peer"},
		NoRead:         {1, "gave no usable answer within 10s"},
		Silent:         {1, "gave no usable answer within 10s"},
		WrongAnswer:    {1, "answers 200"},
	},
	"bench": {
		EndlessChunked: {2, "response body longer than 32 MiB (the client's cap)"},
		HugeLength:     {2, "response body longer than 32 MiB (the client's cap)"},
		EndlessHeaders: {2, "response has more than 1000 header fields (the client's cap)"},
		Drip:           {2, "i/o timeout"},
		Garbage:        {2, "response status line longer than 8 KiB (the client's cap)"},
		ResetMidBody:   {2, "connection reset by peer"},
		NoRead:         {2, "i/o timeout"},
		Silent:         {2, "i/o timeout"},
		WrongAnswer:    {2, "expected the scenario's 13 bytes"},
	},
}

type hostileRun struct {
	command string // conform, matrix, bench
	mode    Mode
	tag     string
	json    string
	obs     observed
	left    []int // tagged processes still alive after the run
}

// TestHostileServers runs conform, matrix and bench against the hostile server in every mode and
// checks that each run ends by itself within its bounds, with the exit code and a message saying
// what the server did, within the memory limit, and without leaving a process behind.
func TestHostileServers(t *testing.T) {
	bin := os.Getenv("WSGISPEC_BIN")
	if bin == "" {
		t.Skip("WSGISPEC_BIN is not set: run `make test`, which builds bin/ and sets it")
	}
	self, err := os.Executable() // the hostile server: this test binary (see TestMain)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var runs []*hostileRun
	for _, command := range []string{"conform", "matrix", "bench"} {
		for _, mode := range Modes {
			tag := fmt.Sprintf("wsgispec-hostile-test-%d-%s-%s", os.Getpid(), command, mode)
			runs = append(runs, &hostileRun{command: command, mode: mode, tag: tag, json: filepath.Join(dir, tag+".json")})
		}
	}
	sem := make(chan struct{}, parallelRuns)
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r.obs = observe(cliArgs(bin, self, r), runTimeout)
			r.left = tagged(r.tag)
		})
	}
	wg.Wait()
	for _, r := range runs {
		t.Run(r.command+"/"+string(r.mode), func(t *testing.T) {
			o := r.obs
			t.Logf("exit %d in %.1fs; peak VmHWM %d MB (%s), ru_maxrss %d MB\nstderr:\n%s\nstdout:\n%s",
				o.code, o.wall.Seconds(), o.peakKB>>10, o.peakOf, o.maxRSSKB>>10, tail(o.stderr), tail(o.stdout))
			if o.err != nil {
				t.Fatalf("the run did not end by itself within %s: %v", runTimeout, o.err)
			}
			if o.peakKB > peakLimitKB || o.maxRSSKB > peakLimitKB {
				t.Errorf("memory: peak VmHWM %d MB (%s), ru_maxrss %d MB; want both under %d MB", o.peakKB>>10, o.peakOf, o.maxRSSKB>>10, peakLimitKB>>10)
			}
			want := expected[r.command][r.mode]
			if o.code != want.code {
				t.Errorf("exit code %d, want %d", o.code, want.code)
			}
			said := o.stderr
			if b, err := os.ReadFile(r.json); err == nil {
				said = string(b)
			}
			if !strings.Contains(said, want.message) && !strings.Contains(jsonUnescape(said), want.message) {
				t.Errorf("the run does not say %q", want.message)
			}
			if len(r.left) > 0 {
				t.Errorf("processes left behind: %v", r.left)
			}
		})
	}
}

// cliArgs is the wsgispec command line of a run: the command as a user would type it, with the
// hostile server (the test binary self) given as --server-cmd and the run's JSON written beside
// the test's files.
func cliArgs(bin, self string, r *hostileRun) []string {
	argv := []string{filepath.Join(bin, "wsgispec"), r.command,
		"--server-cmd", serverCommand(self, r.mode, r.tag), "--name", "hostile-" + string(r.mode), "--json", r.json}
	switch r.command {
	case "conform":
		argv = append(argv, "--timeout", "90s")
	case "matrix":
		argv = append(argv, "--framework", "flask")
	case "bench":
		// One short round: what is judged is how the run ends, not a figure.
		argv = append(argv, "--scenario", "hello", "--rounds", "1", "--warmup", "100ms", "--duration", "300ms", "--concurrency", "4")
	}
	return argv
}

// serverCommand is the --server-cmd template that runs the hostile server in mode: this test
// binary, whose TestMain serves; tag marks its processes.
func serverCommand(self string, mode Mode, tag string) string {
	return fmt.Sprintf("'%s' hostile-serve %s {host}:{port} %s", self, mode, tag)
}

// jsonUnescape undoes the JSON escapes a message may carry (quotes, <, >, &).
func jsonUnescape(s string) string {
	return strings.NewReplacer(`\"`, `"`, `\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\'`, "'").Replace(s)
}

func tail(s string) string {
	const n = 3000
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
