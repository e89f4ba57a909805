package gateway

import (
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak drives the gateway for WSGISPEC_SOAK (a duration, e.g. 10m; `make soak`) at a fixed
// rate and checks that nothing fails and that no worker grows in memory or file descriptors.
// The rate is WSGISPEC_SOAK_RATE requests per second (default 2000, about 80% of what the
// gateway serves on this 2-core machine beside its load generator).
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("WSGISPEC_SOAK"))
	if err != nil {
		t.Skip("set WSGISPEC_SOAK=10m (make soak) to run the soak test")
	}
	rate := 2000
	if r, err := strconv.Atoi(os.Getenv("WSGISPEC_SOAK_RATE")); err == nil {
		rate = r
	}
	gp := startBinary(t, "--workers", "2")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	// Every few milliseconds, send what the rate owes since the start: a ticker per request
	// would fall behind at thousands per second.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	end := start.Add(d)
	warm := time.Now().Add(d / 10) // the first tenth settles caches and pools
	// Memory and descriptors are judged from samples taken after the warm-up: the median of the
	// last quarter against the median of the first (one sample moves with how many connections
	// happen to be open).
	var rssSamples, fdSamples []map[int]int64
	sample := time.NewTicker(d / 40)
	defer sample.Stop()
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	for time.Now().Before(end) {
		select {
		case <-sample.C:
			if time.Now().After(warm) {
				rss, fds := workerUsage(t, gp)
				rssSamples, fdSamples = append(rssSamples, rss), append(fdSamples, fds)
				t.Logf("%s: workers RSS %v KiB, fds %v; %d requests, %d failed", time.Until(end).Round(time.Second), rss, fds, sent.Load(), failed.Load())
			}
		case now := <-tick.C:
			owed := int64(now.Sub(start).Seconds()*float64(rate)) - sent.Load()
			for range owed {
				sem <- struct{}{}
				wg.Add(1)
				sent.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					resp, err := client.Get("http://" + gp.addr + "/length?single")
					if err == nil {
						resp.Body.Close()
						if resp.StatusCode != 200 {
							err = errStatus(resp.StatusCode)
						}
					}
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
				}()
			}
		}
	}
	wg.Wait()
	q := max(len(rssSamples)/4, 1)
	early, late := medians(rssSamples[:q]), medians(rssSamples[len(rssSamples)-q:])
	earlyFDs, lateFDs := medians(fdSamples[:q]), medians(fdSamples[len(fdSamples)-q:])
	t.Logf("end: %d requests (%.0f/s), %d failed; median RSS KiB early %v, late %v; median open files early %v, late %v",
		sent.Load(), float64(sent.Load())/d.Seconds(), failed.Load(), early, late, earlyFDs, lateFDs)
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed (first: %v)", failed.Load(), sent.Load(), firstErr.Load())
	}
	for pid, r := range late {
		if b, ok := early[pid]; ok && r > b+b/10 {
			t.Errorf("worker %d grew from %d to %d KiB RSS (over 10%%)", pid, b, r)
		}
		if b, ok := earlyFDs[pid]; ok && lateFDs[pid] > b+b/10+2 {
			t.Errorf("worker %d went from %d to %d open files", pid, b, lateFDs[pid])
		}
	}
}

// medians is each worker's median over the samples.
func medians(samples []map[int]int64) map[int]int64 {
	per := map[int][]int64{}
	for _, s := range samples {
		for pid, v := range s {
			per[pid] = append(per[pid], v)
		}
	}
	out := map[int]int64{}
	for pid, vs := range per {
		slices.Sort(vs)
		out[pid] = vs[len(vs)/2]
	}
	return out
}

type errStatus int

func (e errStatus) Error() string { return "status " + strconv.Itoa(int(e)) }

// workerUsage reads each worker's resident memory and open file count from /proc.
func workerUsage(t *testing.T, gp *gatewayProcess) (rss, fds map[int]int64) {
	rss, fds = map[int]int64{}, map[int]int64{}
	procs, _ := os.ReadDir("/proc")
	parent := "PPid:\t" + strconv.Itoa(gp.cmd.Process.Pid)
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile("/proc/" + p.Name() + "/status")
		if err != nil || !strings.Contains(string(status), parent+"\n") {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
				rss[pid] = kb
			}
		}
		entries, _ := os.ReadDir("/proc/" + p.Name() + "/fd")
		fds[pid] = int64(len(entries))
	}
	return rss, fds
}
