package junit

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

func TestWriteCountsAndRoundTrips(t *testing.T) {
	doc := Testsuites{Name: "wsgispec conform", Suites: []Testsuite{{
		Name: "gunicorn/close", Timestamp: "2026-01-02T03:04:05", Hostname: "ci",
		Cases: []Testcase{
			{Classname: "close", Name: "close.once: close() called once", Time: 0.25},
			{Classname: "close", Name: "close.on-error", Time: 0.5, Failure: &Problem{
				Message: `expected "close() once" & <no> more`, Type: "MUST",
				// A transcript holds any byte: NUL, ESC, invalid UTF-8.
				Text: "> GET / HTTP/1.1\r\n\x00\x1b[31m\xff\xfe< HTTP/1.1 500\r\n",
			}},
			{Classname: "close", Name: "close.hung", Error: &Problem{Message: "spec timedout"}},
			{Classname: "close", Name: "close.skipped", Skipped: &Skipped{Message: "needs the probe dir"}},
		},
	}}}
	var buf bytes.Buffer
	if err := Write(&buf, doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %.60q", buf.String())
	}
	var back Testsuites
	dec := xml.NewDecoder(&buf)
	dec.Strict = true
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("the written JUnit does not parse: %v", err)
	}
	if back.Tests != 4 || back.Failures != 1 || back.Errors != 1 || back.Time != 0.75 {
		t.Errorf("testsuites counts %d tests %d failures %d errors %.2fs, want 4 1 1 0.75s",
			back.Tests, back.Failures, back.Errors, back.Time)
	}
	s := back.Suites[0]
	if s.Tests != 4 || s.Failures != 1 || s.Errors != 1 || s.Skipped != 1 {
		t.Errorf("testsuite counts %d %d %d %d, want 4 1 1 1", s.Tests, s.Failures, s.Errors, s.Skipped)
	}
	f := s.Cases[1].Failure
	if f == nil || f.Message != `expected "close() once" & <no> more` || f.Type != "MUST" {
		t.Fatalf("failure came back as %+v", f)
	}
	if !strings.Contains(f.Text, "GET / HTTP/1.1") || !strings.Contains(f.Text, "\uFFFD") {
		t.Errorf("failure text %q: want the transcript with unencodable bytes replaced", f.Text)
	}
	if s.Cases[2].Error == nil || s.Cases[3].Skipped == nil || s.Cases[0].Failure != nil {
		t.Errorf("outcomes did not round-trip: %+v", s.Cases)
	}
}
