package bench

import (
	"bytes"
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
cpu: Test CPU @ 2GHz
commit: abc123
BenchmarkHello/server=reference/model=closed 1 10000 req/s 30 cpu-us/req 1 p50-ms 3 p99-ms
BenchmarkHello/server=gunicorn/model=closed 1 6300 req/s 198 cpu-us/req 1 p50-ms 19.8 p99-ms 0.63 req/s/ref 6.6 cpu/ref
BenchmarkFlaskRead/server=gunicorn/model=open 1 240 cpu-us/req 1 p50-ms 24 p99-ms
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

| server | req/s | server CPU µs/req | CPU ÷ reference | p99 ms | RSS MB | version |
|---|---:|---:|---:|---:|---:|---|
| reference | 10000 | 30.0 | - | - | 0 |  |
| gunicorn | 6300 | 198.0 | 6.60 | 24.00 | 0 | 21.2.0 |
| uwsgi | 18000 | 45.0 | 1.50 | - | 0 |  |
`
	if out.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", out.String(), want)
	}
}
