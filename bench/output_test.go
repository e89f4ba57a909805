package bench

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/wsgispec/wsgispec/harness"
)

func TestBenchfmt(t *testing.T) {
	commit := "abc123"
	f := &File{}
	f.Commit = &commit
	f.Host = harness.Host{CPU: "Test CPU @ 2GHz"}
	f.Runs = []Run{
		benchRun(ReferenceServer, Closed, 1, 10000, 30),
		benchRun("gunicorn", Closed, 1, 6300, 198),
		benchRun("gunicorn", Open, 1, 3150, 240),
	}
	f.Runs[2].Scenario = "flask-read"
	AddReferenceRatios(f.Runs)
	var out bytes.Buffer
	if err := WriteBenchfmt(&out, f); err != nil {
		t.Fatal(err)
	}
	want := `goos: linux
goarch: ` + runtime.GOARCH + `
pkg: github.com/wsgispec/wsgispec/bench
cpu: Test CPU @ 2GHz
commit: abc123
BenchmarkHello/server=reference/model=closed 20000 10000 req/s 3e-05 cpu-sec/req 0.3 ctx-switches/req 0.001 p50-sec 0.003 p99-sec 4.1943e+07 rss-B
BenchmarkHello/server=gunicorn/model=closed 12600 6300 req/s 0.000198 cpu-sec/req 1.98 ctx-switches/req 0.001 p50-sec 0.0198 p99-sec 4.1943e+07 rss-B 0.63 req/s/ref 6.6 cpu/ref
BenchmarkFlaskRead/server=gunicorn/model=open 6300 3150 sent-req/s 0.00024 cpu-sec/req 2.4 ctx-switches/req 0.001 p50-sec 0.024 p99-sec 4.1943e+07 rss-B
`
	if out.String() != want {
		t.Errorf("benchfmt output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestHistoryAppends(t *testing.T) {
	dir := t.TempDir() + "/history" // created on first use
	for i, commit := range []string{"c1", "c2"} {
		f := &File{Envelope: harness.Envelope[Run]{Tool: "wsgispec", Kind: harness.KindBench, Started: "2025-01-0" + string(rune('1'+i)) + "T00:00:00Z"}}
		f.Commit = &commit
		f.Host = harness.Host{Cores: 2}
		f.Runs = []Run{benchRun("gunicorn", Closed, 1, 6300, 198)}
		f.Medians = Medians(f.Runs)
		if err := AppendHistory(dir, f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || *got[0].Commit != "c1" || *got[1].Commit != "c2" || got[1].Host.Cores != 2 ||
		len(got[1].Medians) != 1 || got[1].Medians[0].ThroughputRPS != 6300 {
		t.Errorf("history after two appends = %+v, want two entries c1 then c2 with host and medians", got)
	}
}

func TestMarkdownTable(t *testing.T) {
	commit := "abc123"
	f := &File{}
	f.Commit, f.Started = &commit, "2026-11-22T23:00:00Z"
	f.Host = harness.Host{Cores: 2, CPU: "Test CPU", Kernel: "6.1", LoadAvg: 0.5}
	f.Runs = []Run{
		benchRun(ReferenceServer, Closed, 1, 10000, 30),
		benchRun("gunicorn", Closed, 1, 6300, 198),
		benchRun("gunicorn", Open, 1, 3150, 240),
		benchRun("uwsgi", Closed, 1, 18000, 45),
	}
	for i := range f.Runs {
		f.Runs[i].Concurrency = 16
	}
	f.Runs[1].Server.Version = "21.2.0"
	AddReferenceRatios(f.Runs)
	f.Medians = Medians(f.Runs)
	var out bytes.Buffer
	if err := WriteMarkdown(&out, f); err != nil {
		t.Fatal(err)
	}
	want := "Measured 2026-11-22T23:00:00Z at commit `abc123` on 2 × Test CPU (Linux 6.1, load 0.5 at the start); " +
		"medians of 1 rounds; throughput and server CPU per request with 16 concurrent clients, p99 at half of each server's own throughput.\n" + `
**hello**

| server | req/s | server CPU µs/req | CPU ÷ reference | ctx switches/req | p99 ms | RSS MB | version |
|---|---:|---:|---:|---:|---:|---:|---|
| reference | 10000 | 30.0 | - | 0.30 | - | 40 |  |
| gunicorn | 6300 | 198.0 | 6.60 | 1.98 | 24.00 | 40 | 21.2.0 |
| uwsgi | 18000 | 45.0 | 1.50 | 0.45 | - | 40 |  |
`
	if out.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", out.String(), want)
	}
}
