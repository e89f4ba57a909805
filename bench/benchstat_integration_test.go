package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchstatModule is the real benchstat, the version of golang.org/x/perf this module uses for
// its statistics, run through the Go module proxy (go run caches the build).
const benchstatModule = "golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

// TestBenchstatReadsBenchfmt benches the reference server twice with enough rounds for
// benchstat's confidence intervals (6), and checks that the real benchstat compares the two
// --benchfmt files with every unit and no "± ∞".
func TestBenchstatReadsBenchfmt(t *testing.T) {
	binDir := os.Getenv("WSGISPEC_BIN")
	if binDir == "" {
		t.Skip("WSGISPEC_BIN is not set: run `make test`, which builds bin/wsgispec and sets it")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run benchstat with")
	}
	dir := t.TempDir()
	var files []string
	for _, name := range []string{"old.txt", "new.txt"} {
		path := filepath.Join(dir, name)
		out, err := exec.Command(filepath.Join(binDir, "wsgispec"), "bench", "--server", ReferenceServer, "--scenario", "hello",
			"--rounds", "6", "--duration", "300ms", "--warmup", "100ms", "--benchfmt", path).CombinedOutput()
		if err != nil {
			t.Fatalf("wsgispec bench: %v\n%s", err, out)
		}
		files = append(files, path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, append([]string{"run", benchstatModule}, files...)...)
	cmd.Dir = dir // outside this module: the version above, not go.mod's, is what runs
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := stderr.String(); strings.Contains(msg, "dial tcp") || strings.Contains(msg, "proxy.golang.org") || strings.Contains(msg, "no such host") {
			t.Skipf("the Go module proxy is unreachable, so benchstat cannot be fetched: %s", strings.TrimSpace(msg))
		}
		t.Fatalf("benchstat: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"goos: linux", "pkg: github.com/wsgispec/wsgispec/bench", "Hello/server=reference/model=closed",
		"req/s", "sent-req/s", "cpu-sec/req", "ctx-switches/req", "p50-sec", "p99-sec", "rss-B"} {
		if !strings.Contains(out, want) {
			t.Errorf("benchstat's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "∞") {
		t.Errorf("benchstat shows an infinite interval with 6 rounds a side:\n%s", out)
	}
	if strings.Contains(stderr.String(), "parsing") || strings.Contains(out, "1212.3m") {
		t.Errorf("benchstat could not read every line or shows scaled milli-units:\n%s%s", out, stderr.String())
	}
	t.Logf("benchstat:\n%s", out)
}
