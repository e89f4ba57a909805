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
