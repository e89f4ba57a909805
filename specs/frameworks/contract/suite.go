// Package contract is the framework API contract (DESIGN.md "The framework apps' API") as Ginkgo
// specs, one per frameworks.Steps entry, run against a framework app served by a server. The
// target comes from the environment; without it every spec skips. Like the conformance suite it
// is linked into wsgispec and run in a child process (package specs/suites).
package contract

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wsgispec/wsgispec/specs/catalog"
	"github.com/wsgispec/wsgispec/specs/deferred"
	"github.com/wsgispec/wsgispec/specs/frameworks"
)

// env is the target the suite runs against, read once from the environment.
var env = struct {
	Target, ScriptName, Framework, Server string
}{
	Target:     strings.TrimSuffix(os.Getenv(frameworks.EnvTarget), "/"),
	ScriptName: strings.TrimSuffix(os.Getenv(frameworks.EnvScriptName), "/"),
	Framework:  os.Getenv(frameworks.EnvFramework),
	Server:     os.Getenv(frameworks.EnvServer),
}

// Run runs the suite once (Ginkgo allows one run per process), configured by Ginkgo's
// --ginkgo.* flags, and reports whether every spec passed; t is told of a failure.
func Run(t GinkgoTestingT) bool {
	RegisterFailHandler(Fail)
	nodes.Declare()
	return RunSpecs(t, "wsgispec framework contract")
}

// nodes holds the suite's top-level specs until Run (see package deferred).
var nodes deferred.Nodes

// Undeclared lists the steps of frameworks.Steps that have no spec, which the harness would
// report but never run. It is complete after Run, which builds the whole spec tree.
func Undeclared() []string {
	var problems []string
	for _, s := range frameworks.Steps {
		if !declared[s.Name] {
			problems = append(problems, fmt.Sprintf("step %s (%s) has no spec", s.Name, s.Title))
		}
	}
	return problems
}

// declared holds the steps given a spec so far (while Ginkgo builds the spec tree).
var declared = map[string]bool{}

// stepTimeout bounds a step, so that a server that stops answering costs a minute per step, not a
// request timeout per request.
const stepTimeout = time.Minute

// step declares the spec of one contract step: labelled with the step's label, skipped without a
// target, and reporting its evidence (and deleting the posts it created) however it ends.
func step(name string, body func(c *client)) {
	s := frameworks.MustLookup(name)
	if declared[name] {
		panic(fmt.Sprintf("step %s has two specs", name))
	}
	declared[name] = true
	It(s.Title, Label(s.Label()), SpecTimeout(stepTimeout), func(ctx SpecContext) {
		if env.Target == "" {
			Skip(fmt.Sprintf("%s is not set: this suite needs an app running on a server (wsgispec matrix starts one)", frameworks.EnvTarget))
		}
		reachOnce.Do(func() { unreachable = checkReachable(ctx) })
		if unreachable != "" {
			Fail(fmt.Sprintf("step %s: not judged: %s", s.Name, unreachable))
		}
		c := newClient(ctx, s)
		DeferCleanup(func() {
			// In the JSON report always; on the console only when the step fails (or with -v).
			AddReportEntry(catalog.EvidenceEntry, c.evidence(), ReportEntryVisibilityFailureOrVerbose)
			c.cleanup()
		})
		body(c)
	})
}

// reachTimeout bounds the first request of the suite, which decides whether any step can be
// judged.
const reachTimeout = 10 * time.Second

var (
	reachOnce   sync.Once
	unreachable string // why the server gave no usable answer to GET /interop, or ""
)

// checkReachable asks GET /interop once, before the first step. A server that gives no HTTP
// answer within the client's caps (nothing within reachTimeout, garbage, a reset, a response
// past a cap) fails every step with that one reason at once, instead of each step waiting out
// its own requests' timeouts; any HTTP answer, even an error status, lets the steps judge it.
func checkReachable(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	url := env.Target + env.ScriptName + "/interop"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	if _, _, _, err := do(httpClient, req); err != nil {
		return fmt.Sprintf("GET %s gave no usable answer within %s: %v", url, reachTimeout, err)
	}
	return ""
}

// Posts and comments as the API answers them.
type post struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Content string `json:"content"`
}

type comment struct {
	ID      int64  `json:"id"`
	PostID  int64  `json:"post_id"`
	Content string `json:"content"`
}

// createPost creates a post, checks the answer echoes it with an id, and schedules its deletion.
func (c *client) createPost(title, content string) post {
	GinkgoHelper()
	ex := c.send("POST", "/posts", map[string]any{"title": title, "content": content})
	var got post
	c.statusJSON(ex, 201, &got)
	c.expect(ex, got.ID > 0, "the new post with a positive integer id", excerpt(ex.Body))
	c.expectPost(ex, got, post{ID: got.ID, Title: title, Content: content})
	c.created = append(c.created, got.ID)
	return got
}

// createComment creates a comment on a post and checks the answer echoes it with an id.
func (c *client) createComment(postID int64, content string) comment {
	GinkgoHelper()
	ex := c.send("POST", "/comments", map[string]any{"post_id": postID, "content": content})
	var got comment
	c.statusJSON(ex, 201, &got)
	c.expect(ex, got.ID > 0, "the new comment with a positive integer id", excerpt(ex.Body))
	c.expect(ex, got == comment{ID: got.ID, PostID: postID, Content: content},
		fmt.Sprintf("%+v", comment{ID: got.ID, PostID: postID, Content: content}), fmt.Sprintf("%+v", got))
	return got
}

// expectPost compares posts field by field; a long content is shown by length only.
func (c *client) expectPost(ex *exchange, got, want post) {
	GinkgoHelper()
	c.expect(ex, got == want, describePost(want), describePost(got))
}

func describePost(p post) string {
	content := fmt.Sprintf("%q", p.Content)
	if len(p.Content) > 100 {
		content = fmt.Sprintf("%d bytes starting %q", len(p.Content), p.Content[:40])
	}
	return fmt.Sprintf("post{id: %d, title: %q, content: %s}", p.ID, p.Title, content)
}

func (c *client) listPosts() []post {
	GinkgoHelper()
	var posts []post
	c.statusJSON(c.send("GET", "/posts", nil), 200, &posts)
	return posts
}

func (c *client) listComments(query string) []comment {
	GinkgoHelper()
	var comments []comment
	c.statusJSON(c.send("GET", "/comments"+query, nil), 200, &comments)
	return comments
}

// unusedID is an id no row of the listed kind has (nor will get during this run: ids only grow).
func unusedID[T any](rows []T, id func(T) int64) int64 {
	highest := int64(0)
	for _, r := range rows {
		highest = max(highest, id(r))
	}
	return highest + 1_000_000
}

func postID(p post) int64        { return p.ID }
func commentID(cm comment) int64 { return cm.ID }

// unique makes titles and contents of this run distinguishable from earlier runs' rows.
var runID = fmt.Sprintf("%d", os.Getpid())

func unique(s string) string { return s + " #" + runID }
