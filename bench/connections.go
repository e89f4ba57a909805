package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/wsgispec/wsgispec/internal/readcap"
)

// Connections is how a server treated the client's connections in one run. Opened and
// ServedAtOnce come from the measurement made before the server's windows (measureConnections):
// connections opened at once, each sending one request, and how many of them were answered
// within servedWithin while all stayed open. LongestWaitMS and Unanswered are the run's own: the
// longest a request waited for the first byte of its answer (in the client's queue included),
// and the requests that got no answer at all, which count as errors.
type Connections struct {
	Opened        int     `json:"opened"`
	ServedAtOnce  int     `json:"served_at_once"`
	LongestWaitMS float64 `json:"longest_wait_ms"`
	Unanswered    int     `json:"unanswered"`
}

// add folds one round's figures into a series' (first: the series' first round): the most
// opened, the fewest served at once, the longest wait, every unanswered request.
func (c *Connections) add(r Connections, first bool) {
	if first || r.ServedAtOnce < c.ServedAtOnce {
		c.ServedAtOnce = r.ServedAtOnce
	}
	c.Opened = max(c.Opened, r.Opened)
	c.LongestWaitMS = max(c.LongestWaitMS, r.LongestWaitMS)
	c.Unanswered += r.Unanswered
}

// Policy is what the bench did about the figure, in the words the report shows.
func (c Connections) Policy() string {
	if c.Opened == 0 {
		return ""
	}
	if c.Limited() {
		return fmt.Sprintf("served %d of %d connections at once; requests queued in the client", c.ServedAtOnce, c.Opened)
	}
	return fmt.Sprintf("served %d of %d connections at once", c.ServedAtOnce, c.Opened)
}

// Limited reports whether the server served fewer connections at once than were opened: the
// client then keeps no more connections than it served.
func (c Connections) Limited() bool { return c.ServedAtOnce < c.Opened }

// servedWithin is how long a connection of the measurement may wait for its answer and still
// count as served at once: far above one request's time on any server here (milliseconds), far
// below the time a connection queued behind a kept-alive one waits (until the client closes it).
const servedWithin = time.Second

// maxClientConnections caps the client's connections to a server that served every connection
// of the measurement. Under a fixed rate vegeta starts a worker, and so a connection, whenever
// the others are all waiting; on a busy machine that makes hundreds, past what servers accept
// (waitress: 100), and the excess would wait in the backlog until it timed out. Waiting for one
// of these connections is counted in the latency just the same.
const maxClientConnections = 64

// clientConnections is the policy, the same for every server: no more connections than the
// server served at once, so that requests beyond them queue in the client (as behind a reverse
// proxy) rather than in the server's listen backlog, where a connection waits until a kept-alive
// one is closed; the open model's latency counts the client's queue as it would the backlog.
func clientConnections(c Connections) int {
	if c.Limited() {
		return max(1, c.ServedAtOnce)
	}
	return maxClientConnections
}

// measureConnections opens n connections to the server at once, sends the target's request on
// each and counts those answered (status line, headers and whole body) within servedWithin,
// holding every answered connection open until the others are answered or the bound has passed,
// so that a server that gives each kept-alive connection a process or thread of its own shows
// how many it has. A connection's error counts as not served.
func measureConnections(ctx context.Context, target vegeta.Target, n int, limits readcap.Limits) (Connections, error) {
	p := newHostPool("", n, limits) // a pool of its own: no connection is shared or reused
	deadline := time.Now().Add(servedWithin)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var wg sync.WaitGroup
	served := make(chan bool, n)
	for range n {
		req, err := target.Request()
		if err != nil {
			return Connections{}, err
		}
		req = req.WithContext(ctx)
		if p.addr == "" {
			p.addr = hostPort(req.URL)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			served <- serveOnce(ctx, p, req, deadline)
		}()
	}
	wg.Wait()
	p.closeIdle() // the answered connections, held open until now
	close(served)
	c := Connections{Opened: n}
	for ok := range served {
		if ok {
			c.ServedAtOnce++
		}
	}
	return c, nil
}

// serveOnce sends req on a new connection of p and reads the whole answer, leaving the
// connection open in p's idle set when the server keeps it.
func serveOnce(ctx context.Context, p *hostPool, req *http.Request, deadline time.Time) bool {
	p.slots <- struct{}{}
	c, err := p.dial(ctx, deadline)
	if err != nil {
		return false
	}
	resp, err := c.roundTrip(req, deadline)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil
}
