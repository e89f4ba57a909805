// Package junit writes JUnit XML, the test report format CI systems (Jenkins, GitLab, GitHub
// Actions reporters) ingest: <testsuites> of <testsuite> of <testcase>, each test case passed or
// holding one <failure>, <error> or <skipped>. Counts on the suites are computed when writing.
// What it writes validates against the Jenkins xUnit plugin's junit-10.xsd, the strictest
// schema in common use: no counts of skipped tests on <testsuites>, times as plain decimals,
// <properties> on suites only.
package junit

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
)

// Testsuites is the document root.
type Testsuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Name     string      `xml:"name,attr,omitempty"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     Seconds     `xml:"time,attr"`
	Suites   []Testsuite `xml:"testsuite"`
}

// Testsuite groups test cases.
type Testsuite struct {
	Name       string     `xml:"name,attr"`
	Tests      int        `xml:"tests,attr"`
	Failures   int        `xml:"failures,attr"`
	Errors     int        `xml:"errors,attr"`
	Skipped    int        `xml:"skipped,attr"`
	Time       Seconds    `xml:"time,attr"`
	Timestamp  string     `xml:"timestamp,attr,omitempty"` // ISO 8601, no zone suffix required
	Hostname   string     `xml:"hostname,attr,omitempty"`
	Properties []Property `xml:"properties>property,omitempty"`
	Cases      []Testcase `xml:"testcase"`
	SystemErr  string     `xml:"system-err,omitempty"`
}

// Property is a name and value describing a suite (or, named after one, a test case of it: the
// schema allows properties on suites only).
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Seconds is a duration written as a decimal with millisecond precision ("0.250", never "1e-05":
// the schema's time is digits and a point).
type Seconds float64

// MarshalXMLAttr writes s with three decimals.
func (s Seconds) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	return xml.Attr{Name: name, Value: strconv.FormatFloat(float64(s), 'f', 3, 64)}, nil
}

// UnmarshalXMLAttr reads a decimal.
func (s *Seconds) UnmarshalXMLAttr(a xml.Attr) error {
	f, err := strconv.ParseFloat(a.Value, 64)
	*s = Seconds(f)
	return err
}

// Testcase is one test; at most one of Failure, Error and Skipped is set.
type Testcase struct {
	Classname string   `xml:"classname,attr"`
	Name      string   `xml:"name,attr"`
	Time      Seconds  `xml:"time,attr"`
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
	doc.Tests, doc.Failures, doc.Errors, doc.Time = 0, 0, 0, 0
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
func millis(s Seconds) Seconds { return Seconds(math.Round(float64(s)*1000) / 1000) }
