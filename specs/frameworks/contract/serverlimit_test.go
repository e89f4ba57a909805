package contract

import (
	"context"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
)

// TestServerLimitCountsWhatWentWrong: a burst whose failures are all connection-level is a
// server limit with each kind counted; one wrong answer makes it an app failure instead.
func TestServerLimitCountsWhatWentWrong(t *testing.T) {
	timeout := fmt.Errorf("Post: %w", context.DeadlineExceeded)
	burst := []*exchange{
		{Status: 201}, {Status: 201},
		{Err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED)},
		{Err: fmt.Errorf("read: %w", syscall.ECONNRESET)}, {Err: io.EOF},
		{Err: timeout}, {Err: timeout}, {Err: timeout},
		{Err: timeout, Connected: true},
	}
	got, ok := serverLimit(burst)
	want := "server limit, not an app failure: of 9 simultaneous connections 2 answered 201, 1 refused, 2 reset or closed unanswered, " +
		"3 not accepted within 30s (left in a full listen backlog), 1 accepted but unanswered within 30s"
	if !ok || !strings.HasPrefix(got, want) {
		t.Errorf("got %q (%v),\nwant it to start %q", got, ok, want)
	}
	if _, ok := serverLimit(append(burst, &exchange{Status: 500})); ok {
		t.Error("a burst with a 500 among its answers is called a server limit")
	}
	if _, ok := serverLimit([]*exchange{{Status: 201}}); ok {
		t.Error("a burst answered whole is called a server limit")
	}
}
