// Package frameworks is the contract the framework apps (pyapps/flask, pyapps/django,
// pyapps/fastapi) fulfil: the posts/comments API of DESIGN.md. Its Ginkgo suite (the _test.go
// files, compiled by `make build` into bin/wsgispec-frameworks.test) runs the steps listed here
// against one app on one server; each spec carries the label "step:<name>" of exactly one step,
// which is how the matrix harness reads Ginkgo's JSON report back. Plain Go: no Ginkgo, no cgo.
package frameworks

import "fmt"

// The environment the suite reads. Without a target every step is skipped.
const (
	EnvTarget     = "WSGISPEC_TARGET"      // base URL of the server, e.g. http://127.0.0.1:41234
	EnvScriptName = "WSGISPEC_SCRIPT_NAME" // the mount prefix the app is served under ("" by default)
	EnvFramework  = "WSGISPEC_FRAMEWORK"   // flask, django or fastapi: /info must name it
	EnvServer     = "WSGISPEC_SERVER"      // the server's name, for messages
)

// LabelPrefix starts the Ginkgo label of each step's spec.
const LabelPrefix = "step:"

// ServerLimitEntry names the Ginkgo report entry of a step that failed for want of the server's
// capacity (connections refused, reset, or left waiting in the listen backlog), not for its
// app's answers: its value says so with the counts.
const ServerLimitEntry = "server-limit"

// Step is one check of the contract. Names are stable: results files and reports key on them.
type Step struct {
	Name  string
	Title string
}

// Label is the Ginkgo label of the step's spec.
func (s Step) Label() string { return LabelPrefix + s.Name }

// Steps lists every step, in the order reports show them.
var Steps = []Step{
	{"interop", "GET /interop answers 200 {\"status\": \"ok\"} after a database round trip"},
	{"info", "GET /info names the framework, its version, Python and at most 10 tables, largest first"},
	{"info.counts", "GET /info counts the rows of posts and comments exactly, before and after changes"},
	{"posts.create", "POST /posts creates a post and answers 201 with it"},
	{"posts.list", "GET /posts lists every post, ordered by id"},
	{"posts.get", "GET /posts/<id> answers the post"},
	{"posts.update", "PUT /posts/<id> replaces title and content"},
	{"posts.delete", "DELETE /posts/<id> answers 204 and the post is gone"},
	{"posts.not-found", "GET, PUT and DELETE of an unknown post answer 404 with a JSON error"},
	{"posts.cascade-delete", "deleting a post deletes its comments and no others"},
	{"comments.create", "POST /comments creates a comment on a post and answers 201 with it"},
	{"comments.list", "GET /comments lists every comment by id; ?post_id=N only that post's"},
	{"comments.get", "GET /comments/<id> answers the comment"},
	{"comments.update", "PUT /comments/<id> replaces post_id and content"},
	{"comments.delete", "DELETE /comments/<id> answers 204 and the comment is gone"},
	{"comments.not-found", "GET, PUT and DELETE of an unknown comment answer 404 with a JSON error"},
	{"errors.invalid-json", "a body that is not JSON answers 400 with a JSON error and changes nothing"},
	{"errors.missing-field", "a body missing a field answers 422 and changes nothing"},
	{"errors.wrong-type", "a field of the wrong JSON type answers 422 and changes nothing"},
	{"errors.unknown-post", "a comment naming a post that does not exist answers 422 and changes nothing"},
	{"unicode.titles", "titles with emoji, CJK, RTL and combining characters come back intact"},
	{"body.large-content", "a post with a 1 MiB content field is stored and read back byte for byte"},
	{"concurrency.creates", "50 concurrent POST /posts give 50 new rows with 50 distinct ids"},
}

// Lookup returns the step with this name.
func Lookup(name string) (Step, bool) {
	for _, s := range Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// MustLookup returns the step with this name and panics when there is none (for the suite's
// spec files, whose step names are constants).
func MustLookup(name string) Step {
	s, ok := Lookup(name)
	if !ok {
		panic(fmt.Sprintf("frameworks: no step %q", name))
	}
	return s
}
