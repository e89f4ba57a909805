package readcap

import (
	"errors"
	"fmt"
	"testing"
)

func TestExceededNamesTheCap(t *testing.T) {
	for _, tc := range []struct {
		err  *Exceeded
		want string
	}{
		{&Exceeded{Cap: Body, Limit: 32 << 20}, "response body longer than 32 MiB (the client's cap)"},
		{&Exceeded{Cap: StatusLine, Limit: 8 << 10}, "response status line longer than 8 KiB (the client's cap)"},
		{&Exceeded{Cap: "chunk size line", Limit: 100}, "response chunk size line longer than 100 bytes (the client's cap)"},
		{&Exceeded{Cap: Fields, Limit: 1000}, "response has more than 1000 header fields (the client's cap)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
		if wrapped := fmt.Errorf("reading: %w", tc.err); !errors.Is(wrapped, ErrExceeded) {
			t.Errorf("%v does not match ErrExceeded", wrapped)
		}
	}
}
