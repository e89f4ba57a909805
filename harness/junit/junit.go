// Package junit writes JUnit XML, the test report format CI systems (Jenkins, GitLab, GitHub
// Actions reporters) ingest: <testsuites> of <testsuite> of <testcase>, each test case passed or
// holding one <failure>, <error> or <skipped>. Counts on the suites are computed when writing.
package junit

import (
	"encoding/xml"
	"io"
	"math"
)

// Testsuites is the document root.
type Testsuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Name     string      `xml:"name,attr,omitempty"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Suites   []Testsuite `xml:"testsuite"`
}

// Testsuite groups test cases.
type Testsuite struct {
	Name      string  `xml:"name,attr"`
	Tests     int     `xml:"tests,attr"`
	Failures  int     `xml:"failures,attr"`
	Errors    int     `xml:"errors,attr"`
	Skipped   int     `xml:"skipped,attr"`
	Time      float64 `xml:"time,attr"`
	Timestamp string  `xml:"timestamp,attr,omitempty"` // ISO 8601, no zone suffix required
	Hostname  string  `xml:"hostname,attr,omitempty"`
	// Properties describe what was tested (the server's name, version and command).
	Properties []Property `xml:"properties>property,omitempty"`
	Cases      []Testcase `xml:"testcase"`
	SystemErr  string     `xml:"system-err,omitempty"`
}

// Property is one name and value of a testsuite's properties.
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Testcase is one test; at most one of Failure, Error and Skipped is set.
type Testcase struct {
	Classname string   `xml:"classname,attr"`
	Name      string   `xml:"name,attr"`
	Time      float64  `xml:"time,attr"`
	Failure   *Problem `xml:"failure"`
	Error     *Problem `xml:"error"`
	Skipped   *Skipped `xml:"skipped"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Problem is a <failure> or <error>: a one-line message, a type, and the details as text.
type Problem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// Skipped is a <skipped>.
type Skipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// Write fills in the counts and writes the document with an XML declaration. encoding/xml
// replaces what XML 1.0 cannot carry (control characters, invalid UTF-8) with U+FFFD, so any
// transcript can go into a report.
func Write(w io.Writer, doc Testsuites) error {
	doc.Tests, doc.Failures, doc.Errors, doc.Skipped, doc.Time = 0, 0, 0, 0, 0
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Tests, s.Failures, s.Errors, s.Skipped, s.Time = len(s.Cases), 0, 0, 0, 0
		for _, c := range s.Cases {
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
			s.Time += c.Time
		}
		s.Time = millis(s.Time)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Time += s.Time
	}
	doc.Time = millis(doc.Time)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// millis rounds a sum of seconds to the millisecond, so that float error does not show.
func millis(s float64) float64 { return math.Round(s*1000) / 1000 }
