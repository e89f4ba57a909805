//go:build cgo && gateway

package gateway

import (
	"io"
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
// The rate is WSGISPEC_SOAK_RATE requests per second, by default 80% of the peak that this same
// client reaches against the gateway in a closed-model burst first (the peak depends on the
// client, which shares the machine's cores, so it is measured with the one used here).
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("WSGISPEC_SOAK"))
	if err != nil {
		t.Skip("set WSGISPEC_SOAK=10m (make soak) to run the soak test")
	}
	gp := startBinary(t, "--workers", "2")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: soakConcurrency}}
	rate, err := strconv.Atoi(os.Getenv("WSGISPEC_SOAK_RATE"))
	if err != nil {
		peak := peakRate(t, client, "http://"+gp.addr+soakPath, 5*time.Second)
		rate = peak * 8 / 10
		t.Logf("peak %d requests/s (closed model, %d clients, 5 s); soaking at 80%%: %d/s", peak, soakConcurrency, rate)
	}
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	// soakConcurrency clients take the requests that a pacer releases at the rate: a fixed pool
	// keeps the number of connections, and so the workers' open files, steady. Every few
	// milliseconds the pacer releases what the rate owes since the start (a ticker per request
	// would fall behind at thousands per second); if the clients fall behind, the achieved rate
	// shows it.
	start := time.Now()
	end := start.Add(d)
	release := make(chan struct{}, rate)
	var wg sync.WaitGroup
	for range soakConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range release {
				sent.Add(1)
				code, err := getWhole(client, "http://"+gp.addr+soakPath)
				if err == nil && code != 200 {
					err = errStatus(code)
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	warm := time.Now().Add(d / 10) // the first tenth settles caches and pools
	// Memory and descriptors are judged from samples taken after the warm-up: the median of the
	// last quarter against the median of the first (one sample moves with how many connections
	// happen to be open).
	var rssSamples, fdSamples []map[int]int64
	sample := time.NewTicker(d / 40)
	defer sample.Stop()
	released := int64(0)
	for time.Now().Before(end) {
		select {
		case <-sample.C:
			if time.Now().After(warm) {
				rss, fds := workerUsage(t, gp)
				rssSamples, fdSamples = append(rssSamples, rss), append(fdSamples, fds)
				t.Logf("%s: workers RSS %v KiB, fds %v; %d requests, %d failed", time.Until(end).Round(time.Second), rss, fds, sent.Load(), failed.Load())
			}
		case now := <-tick.C:
			for owed := int64(now.Sub(start).Seconds()*float64(rate)) - released; owed > 0; owed-- {
				select {
				case release <- struct{}{}:
					released++
				default: // the clients are a second behind: drop the rest of the tick, the rate check shows it
					owed = 0
				}
			}
		}
	}
	close(release)
	wg.Wait()
	q := max(len(rssSamples)/4, 1)
	early, late := medians(rssSamples[:q]), medians(rssSamples[len(rssSamples)-q:])
	earlyFDs, lateFDs := medians(fdSamples[:q]), medians(fdSamples[len(fdSamples)-q:])
	t.Logf("end: %d requests (%.0f/s), %d failed; median RSS KiB early %v, late %v; median open files early %v, late %v",
		sent.Load(), float64(sent.Load())/d.Seconds(), failed.Load(), early, late, earlyFDs, lateFDs)
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed (first: %v)", failed.Load(), sent.Load(), firstErr.Load())
	}
	if achieved := float64(sent.Load()) / d.Seconds(); achieved < 0.95*float64(rate) {
		t.Errorf("the client sent %.0f requests/s, short of the %d/s asked: the soak did not load the gateway as meant", achieved, rate)
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

const (
	soakPath        = "/length?single"
	soakConcurrency = 64
)

// peakRate is how many requests per second soakConcurrency clients, each sending its next request
// when the last one is answered, get answered during d.
func peakRate(t *testing.T, client *http.Client, url string, d time.Duration) int {
	var answered atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range soakConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if _, err := getWhole(client, url); err != nil {
					t.Errorf("measuring the peak: %v", err)
					return
				}
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(float64(answered.Load()) / d.Seconds())
}

// getWhole GETs url and reads the whole body, so that the client reuses the connection.
func getWhole(client *http.Client, url string) (status int, err error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
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
