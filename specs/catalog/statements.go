package catalog

import (
	"sort"
	"strconv"
	"strings"
)

// Keyword is the word a PEP 3333 statement binds the server with. KeyOther is a duty the PEP
// states without one of its keywords: "it is a fatal error", a reminder, or what a permission
// given to the application implies for the server.
type Keyword string

const (
	KeyMust   Keyword = "MUST"
	KeyShould Keyword = "SHOULD"
	KeyMay    Keyword = "MAY" // a feature the server may have; when it does, its cases judge it
	KeyOther  Keyword = "OTHER"
)

// Coverage says how far the cases test a statement.
type Coverage string

const (
	Covered    Coverage = "covered"    // its cases test what it says
	Partly     Coverage = "partly"     // its cases test part of it; Gap says what is left
	Uncovered  Coverage = "none"       // testable, but no case yet; NoCase says why
	Untestable Coverage = "untestable" // nothing over HTTP can test it; Untestable says why
)

// Statement is one sentence (or clause) of PEP 3333 that binds a server, in wsgispec's words,
// with the cases that test it.
type Statement struct {
	ID         string   `json:"id"` // "<section key>.<name>", stable
	Section    string   `json:"section"`
	Keyword    Keyword  `json:"keyword"`
	Says       string   `json:"says"` // a paraphrase, not the PEP's text (the cases quote it)
	Cases      []string `json:"cases,omitempty"`
	Gap        string   `json:"gap,omitempty"`
	NoCase     string   `json:"no_case,omitempty"`
	Untestable string   `json:"untestable,omitempty"`
}

// Coverage is derived from which of Cases, Gap, NoCase and Untestable are set.
func (s Statement) Coverage() Coverage {
	switch {
	case s.Untestable != "":
		return Untestable
	case len(s.Cases) == 0:
		return Uncovered
	case s.Gap != "":
		return Partly
	default:
		return Covered
	}
}

// Statements returns the statement index, in the PEP's order.
func Statements() []Statement { return statements }

// BeyondPEP lists the cases that test HTTP behaviour PEP 3333 does not state, with why they are
// in the catalog at all; every other case tests at least one statement.
func BeyondPEP() map[string]string { return beyondPEP }

// StatementsOf returns the IDs of the statements a case tests.
func StatementsOf(caseID string) []string {
	var out []string
	for _, s := range statements {
		for _, c := range s.Cases {
			if c == caseID {
				out = append(out, s.ID)
			}
		}
	}
	sort.Strings(out)
	return out
}

var beyondPEP = map[string]string{
	"http.conflicting-content-length": "request smuggling: HTTP/1.1 framing of the request, which the PEP leaves to the server",
	"http.oversized-headers":          "resource limits on request heads, which the PEP does not mention",
	"environ.wsgiref-validate":        "the standard library's own reading of the PEP as a whole (wsgiref.validate), as a second opinion",
}

// statements is the index: every statement of PEP 3333 that binds a server or gateway.
var statements = []Statement{
	{ID: "overview.callable-kind", Section: "Specification Overview", Keyword: KeyMust,
		Says:  "A server invoking the application only calls it, and works the same whether it is a function, a class or an instance with __call__.",
		Cases: []string{"environ.callable-kinds"}},
	{ID: "server.one-call-per-request", Section: "The Server/Gateway Side", Keyword: KeyOther,
		Says:   "The server calls the application once for each request directed at it.",
		NoCase: "No case counts the calls per request: every case sends one request and judges its one answer; a second call would show only in side effects the probe does not compare."},
	{ID: "details.positional-arguments", Section: "Specification Details", Keyword: KeyMust,
		Says:  "The application is called with environ and start_response as positional arguments.",
		Cases: []string{"environ.positional-arguments"}},
	{ID: "details.environ-dict", Section: "Specification Details", Keyword: KeyMust,
		Says:  "environ is a builtin dict, not a subclass or emulation.",
		Cases: []string{"environ.is-dict"}},
	{ID: "details.environ-modifiable", Section: "Specification Details", Keyword: KeyOther,
		Says:  "The application may change environ in any way, so the server must not depend on it afterwards nor reuse it.",
		Cases: []string{"environ.mutation-isolated"}},
	{ID: "details.returns-write", Section: "Specification Details", Keyword: KeyMust,
		Says:  "start_response returns a write callable taking one bytestring.",
		Cases: []string{"start_response.returns-write"}},
	{ID: "details.unbuffered", Section: "Specification Details", Keyword: KeyMust,
		Says:  "Each yielded bytestring is sent to the client, unbuffered, before the next is requested.",
		Cases: []string{"body.yield-not-delayed"}},
	{ID: "details.binary", Section: "Specification Details", Keyword: KeyShould,
		Says:  "Body bytes are binary: nothing, line endings included, is altered.",
		Cases: []string{"body.binary-intact", "body.large-intact"}},
	{ID: "details.may-transfer-encode", Section: "Specification Details", Keyword: KeyMay,
		Says:  "The server may apply transfer encodings or other HTTP transformations (byte ranges); when it does, the HTTP rules apply.",
		Cases: []string{"body.chunked-valid"}},
	{ID: "details.close", Section: "Specification Details", Keyword: KeyMust,
		Says:  "If the iterable has close(), the server calls it when the request ends: normally, on an application error, or when the client went away.",
		Cases: []string{"close.on-completion", "close.on-iteration-error", "close.on-start-response-error", "close.on-disconnect", "close.called-once", "close.on-head", "close.on-content-length-cut", "close.on-rejected-headers"}},
	{ID: "details.may-close-early", Section: "Specification Details", Keyword: KeyMay,
		Says:       "The server may close the iterable before consuming it.",
		Untestable: "A permission: no behaviour of the server can break it."},
	{ID: "details.start-response-lazy", Section: "Specification Details", Keyword: KeyMust,
		Says:  "The server must not assume start_response was called before it starts iterating: the first next() may call it.",
		Cases: []string{"start_response.lazy-call"}},
	{ID: "details.no-other-attributes", Section: "Specification Details", Keyword: KeyMust,
		Says:  "The server uses no attribute of the returned iterable beyond iteration and close(), unless the object is of its own type (its file wrapper).",
		Cases: []string{"body.iterable-attributes-unused"}},
	{ID: "vars.request-method", Section: "environ Variables", Keyword: KeyMust,
		Says:  "REQUEST_METHOD is the method, never empty.",
		Cases: []string{"environ.request-method"}},
	{ID: "vars.script-name", Section: "environ Variables", Keyword: KeyMust,
		Says:  "SCRIPT_NAME is the part of the path that leads to the application (empty at the root).",
		Cases: []string{"environ.script-name"}},
	{ID: "vars.path-info", Section: "environ Variables", Keyword: KeyMust,
		Says:  "PATH_INFO is the rest of the path (empty when the request is exactly the application root).",
		Cases: []string{"environ.path-info", "environ.mount-root"}},
	{ID: "vars.query-string", Section: "environ Variables", Keyword: KeyMust,
		Says:  "QUERY_STRING is the part after \"?\", empty or absent without one.",
		Cases: []string{"environ.query-string", "environ.absent-values"}},
	{ID: "vars.content-type", Section: "environ Variables", Keyword: KeyMust,
		Says:  "CONTENT_TYPE is the request's Content-Type, empty or absent without one.",
		Cases: []string{"environ.content-type", "environ.absent-values"}},
	{ID: "vars.content-length", Section: "environ Variables", Keyword: KeyMust,
		Says:  "CONTENT_LENGTH is the request's Content-Length, empty or absent without one.",
		Cases: []string{"environ.content-length", "environ.absent-values"}},
	{ID: "vars.server-name-port", Section: "environ Variables", Keyword: KeyMust,
		Says:  "SERVER_NAME and SERVER_PORT are always present and never empty, also when the request has no Host.",
		Cases: []string{"environ.server-name", "environ.server-port", "environ.server-name-without-host"}},
	{ID: "vars.server-protocol", Section: "environ Variables", Keyword: KeyMust,
		Says:  "SERVER_PROTOCOL is the protocol version the client used.",
		Cases: []string{"environ.server-protocol"}},
	{ID: "vars.http-variables", Section: "environ Variables", Keyword: KeyShould,
		Says:  "There is an HTTP_ variable exactly for each request header the client sent.",
		Cases: []string{"environ.http-variables", "environ.no-http-content-headers", "environ.repeated-headers", "http.underscore-header", "http.script-name-header"}},
	{ID: "vars.other-cgi", Section: "environ Variables", Keyword: KeyShould,
		Says:  "The server provides as many other applicable CGI variables as it can.",
		Cases: []string{"environ.remote-addr"},
		Gap:   "Only REMOTE_ADDR is checked; which other CGI variables apply depends on the server."},
	{ID: "vars.ssl", Section: "environ Variables", Keyword: KeyShould,
		Says:  "Over SSL the server provides the applicable Apache SSL variables, such as HTTPS=on.",
		Cases: []string{"environ.https-on"},
		Gap:   "HTTPS=on only; SSL_PROTOCOL and the others are not checked."},
	{ID: "vars.document", Section: "environ Variables", Keyword: KeyShould,
		Says:       "The server documents the variables it provides.",
		Untestable: "A duty to document."},
	{ID: "vars.missing-left-out", Section: "environ Variables", Keyword: KeyShould,
		Says:   "A variable that does not apply (REMOTE_USER without authentication) is left out rather than empty.",
		NoCase: "Not yet a case: it would request without credentials and look for REMOTE_USER; environ.absent-values covers the three listed variables only."},
	{ID: "vars.cgi-str", Section: "environ Variables", Keyword: KeyMust,
		Says:  "Every CGI variable present is a str.",
		Cases: []string{"environ.cgi-values-are-str"}},
	{ID: "vars.os-environ", Section: "environ Variables", Keyword: KeyMay,
		Says:       "environ may hold operating-system environment variables.",
		Untestable: "A permission."},
	{ID: "vars.wsgi-version", Section: "environ Variables", Keyword: KeyMust,
		Says:  "wsgi.version is (1, 0).",
		Cases: []string{"environ.wsgi-version"}},
	{ID: "vars.wsgi-url-scheme", Section: "environ Variables", Keyword: KeyMust,
		Says:  "wsgi.url_scheme is the scheme the application is invoked at: \"http\", or \"https\" over TLS.",
		Cases: []string{"environ.wsgi-url-scheme"}},
	{ID: "vars.wsgi-input", Section: "environ Variables", Keyword: KeyMust,
		Says:  "wsgi.input is a stream the request body can be read from.",
		Cases: []string{"environ.wsgi-input"}},
	{ID: "vars.input-on-demand", Section: "environ Variables", Keyword: KeyMay,
		Says:       "The server may read wsgi.input on demand as the application asks, or read the whole body first and buffer it in memory or on disk.",
		Untestable: "A permission: either way the reading cases judge only what the application reads."},
	{ID: "vars.wsgi-errors", Section: "environ Variables", Keyword: KeyMust,
		Says:  "wsgi.errors is a stream error output can be written to.",
		Cases: []string{"environ.wsgi-errors"}},
	{ID: "vars.errors-text", Section: "environ Variables", Keyword: KeyShould,
		Says:  "wsgi.errors is a text-mode stream: the application writes \"\\n\" and the server converts line endings.",
		Cases: []string{"errors.write"},
		Gap:   "Writing is checked; what the server does with line endings happens in its log, which no case reads."},
	{ID: "vars.errors-unicode", Section: "environ Variables", Keyword: KeyShould,
		Says:  "wsgi.errors accepts and logs arbitrary unicode without raising.",
		Cases: []string{"errors.unicode"}},
	{ID: "vars.errors-documented", Section: "environ Variables", Keyword: KeyShould,
		Says:       "The server documents how to configure wsgi.errors or where its output goes.",
		Untestable: "A duty to document."},
	{ID: "vars.errors-per-application", Section: "environ Variables", Keyword: KeyMay,
		Says:       "The server may give different applications different error streams.",
		Untestable: "A permission."},
	{ID: "vars.multithread", Section: "environ Variables", Keyword: KeyMust,
		Says:  "wsgi.multithread is present.",
		Cases: []string{"environ.wsgi-multithread"}},
	{ID: "vars.multithread-truthful", Section: "environ Variables", Keyword: KeyShould,
		Says:  "wsgi.multithread is true when another thread of the process may call the application at the same time, false otherwise.",
		Cases: []string{"environ.multithread-truthful", "environ.concurrency-flags-declared"}},
	{ID: "vars.multiprocess", Section: "environ Variables", Keyword: KeyMust,
		Says:  "wsgi.multiprocess is present.",
		Cases: []string{"environ.wsgi-multiprocess"}},
	{ID: "vars.multiprocess-truthful", Section: "environ Variables", Keyword: KeyShould,
		Says:  "wsgi.multiprocess is true when another process may call an equivalent application at the same time, false otherwise.",
		Cases: []string{"environ.multiprocess-truthful", "environ.concurrency-flags-declared"}},
	{ID: "vars.run-once", Section: "environ Variables", Keyword: KeyMust,
		Says:  "wsgi.run_once is present.",
		Cases: []string{"environ.wsgi-run-once"}},
	{ID: "vars.run-once-truthful", Section: "environ Variables", Keyword: KeyShould,
		Says:  "wsgi.run_once is true only when the server expects to call the application once in its process (CGI).",
		Cases: []string{"environ.concurrency-flags-declared"}},
	{ID: "vars.server-defined-names", Section: "environ Variables", Keyword: KeyShould,
		Says:  "Server-defined environ keys use lower-case letters, digits, dots and underscores, with a prefix unique to the server.",
		Cases: []string{"environ.server-keys-named"}},
	{ID: "streams.methods", Section: "Input and Error Streams", Keyword: KeyMust,
		Says:  "wsgi.input supports read(size), readline(), readlines(hint) and iteration; wsgi.errors supports flush(), write(str) and writelines(seq).",
		Cases: []string{"input.read-size", "input.readline", "input.readlines", "input.iteration", "errors.write", "errors.writelines", "errors.flush"}},
	{ID: "streams.eof-at-content-length", Section: "Input and Error Streams", Keyword: KeyShould,
		Says:  "Reading past CONTENT_LENGTH gives end-of-file.",
		Cases: []string{"input.eof-at-content-length"}},
	{ID: "streams.read-no-argument", Section: "Input and Error Streams", Keyword: KeyShould,
		Says:  "read() without an argument returns the rest of the body.",
		Cases: []string{"input.read-no-argument"}},
	{ID: "streams.empty-when-exhausted", Section: "Input and Error Streams", Keyword: KeyShould,
		Says:  "Reading an empty or exhausted input returns empty bytestrings.",
		Cases: []string{"input.exhausted-returns-empty", "input.empty-returns-empty"}},
	{ID: "streams.readline-size", Section: "Input and Error Streams", Keyword: KeyShould,
		Says:  "readline() accepts the optional size argument.",
		Cases: []string{"input.readline-size"}},
	{ID: "streams.readlines-hint", Section: "Input and Error Streams", Keyword: KeyMay,
		Says:       "The server may ignore readlines()' hint.",
		Untestable: "A permission."},
	{ID: "streams.flush-noop", Section: "Input and Error Streams", Keyword: KeyMay,
		Says:       "wsgi.errors may forward writes at once, and flush() may then do nothing.",
		Untestable: "A permission."},
	{ID: "sr.may-change-headers", Section: "The start_response() Callable", Keyword: KeyMay,
		Says:       "The server may change the contents of the response_headers list.",
		Untestable: "A permission."},
	{ID: "sr.required-headers", Section: "The start_response() Callable", Keyword: KeyMust,
		Says:  "The server adds headers HTTP requires that the application omitted (Date, Server).",
		Cases: []string{"start_response.adds-date"}},
	{ID: "sr.names-any-case", Section: "The start_response() Callable", Keyword: KeyOther,
		Says:  "The server examines application headers by name without regard to case.",
		Cases: []string{"start_response.header-names-any-case"}},
	{ID: "sr.hop-by-hop-fatal", Section: "The start_response() Callable", Keyword: KeyShould,
		Says:  "A hop-by-hop header given to start_response is a fatal error: the server raises.",
		Cases: []string{"start_response.rejects-hop-by-hop"}},
	{ID: "sr.check-when-called", Section: "The start_response() Callable", Keyword: KeyShould,
		Says:  "start_response checks status and headers when it is called, so the error is raised while the application runs.",
		Cases: []string{"start_response.checks-status", "start_response.checks-headers"}},
	{ID: "sr.deferred", Section: "The start_response() Callable", Keyword: KeyMust,
		Says:  "start_response does not send the headers: they go out with the first non-empty bytestring or the first write().",
		Cases: []string{"headers.deferred-until-body", "headers.empty-chunk-not-body", "exc_info.error-before-body"}},
	{ID: "sr.zero-length-early", Section: "The start_response() Callable", Keyword: KeyMay,
		Says:       "Headers that declare Content-Length: 0 may be sent at once, before the iterable is exhausted.",
		Untestable: "A permission (the one exception to the deferral): no deferral case declares a zero Content-Length, so a server using it is never judged by them."},
	{ID: "sr.sent-when-exhausted", Section: "The start_response() Callable", Keyword: KeyMust,
		Says:  "With no body at all, the headers are sent once the iterable is exhausted.",
		Cases: []string{"headers.sent-when-exhausted"}},
	{ID: "sr.exc-info-replaces", Section: "The start_response() Callable", Keyword: KeyShould,
		Says:  "With exc_info and nothing sent yet, start_response replaces the stored status and headers.",
		Cases: []string{"exc_info.replaces-before-send", "exc_info.replaces-after-empty-chunk"}},
	{ID: "sr.exc-info-raises", Section: "The start_response() Callable", Keyword: KeyMust,
		Says:  "With exc_info after the headers were sent, start_response raises.",
		Cases: []string{"exc_info.raises-after-send", "close.on-start-response-error"}},
	{ID: "sr.exc-info-reraises", Section: "The start_response() Callable", Keyword: KeyShould,
		Says:  "That raise re-raises the exc_info exception.",
		Cases: []string{"exc_info.reraises-original"}},
	{ID: "sr.second-call", Section: "The start_response() Callable", Keyword: KeyOther,
		Says:  "A second call without exc_info is a fatal error of the application.",
		Cases: []string{"start_response.second-call-raises"}},
	{ID: "sr.second-call-after-raise", Section: "The start_response() Callable", Keyword: KeyOther,
		Says:  "A call without exc_info after a first call that raised is a fatal error too: the first call counts as made.",
		Cases: []string{"start_response.second-call-after-raise"}},
	{ID: "sr.no-exc-info-reference", Section: "The start_response() Callable", Keyword: KeyShould,
		Says:   "start_response keeps no reference to exc_info after it returns.",
		NoCase: "Would need the probe to look for the server's references to the traceback after the call (gc referrers); not built."},
	{ID: "cl.not-exceeded", Section: "Handling the Content-Length Header", Keyword: KeyShould,
		Says:  "The server sends no more body bytes than the application's Content-Length.",
		Cases: []string{"body.content-length-not-exceeded", "write.past-content-length", "file_wrapper.honours-content-length"}},
	{ID: "cl.stop-iterating", Section: "Handling the Content-Length Header", Keyword: KeyShould,
		Says:  "The server stops iterating once the Content-Length has been sent.",
		Cases: []string{"body.stops-at-content-length", "close.on-content-length-cut"}},
	{ID: "cl.write-past-raises", Section: "Handling the Content-Length Header", Keyword: KeyShould,
		Says:  "write() past the Content-Length raises an error.",
		Cases: []string{"write.past-content-length"}},
	{ID: "cl.short-closes", Section: "Handling the Content-Length Header", Keyword: KeyShould,
		Says:  "A body short of its Content-Length makes the server close the connection and report the error.",
		Cases: []string{"body.short-content-length-closes"},
		Gap:   "The close is checked; the server's log or report is not."},
	{ID: "cl.close-delimited", Section: "Handling the Content-Length Header", Keyword: KeyMay,
		Says:  "Without Content-Length the server may end the body by closing the connection.",
		Cases: []string{"body.chunked-valid"}},
	{ID: "cl.computed-length", Section: "Handling the Content-Length Header", Keyword: KeyMay,
		Says:  "For a one-item iterable and no write(), the server can compute the Content-Length.",
		Cases: []string{"body.single-item-length"}},
	{ID: "cl.chunked", Section: "Handling the Content-Length Header", Keyword: KeyMust,
		Says:  "A server that chunks (which lets it keep the connection) complies fully with HTTP; otherwise it uses another strategy.",
		Cases: []string{"body.chunked-valid", "body.http10-not-chunked", "body.empty-block-mid-body", "body.no-content-statuses", "body.keep-alive", "body.head-no-body"}},
	{ID: "bs.no-delay", Section: "Buffering and Streaming", Keyword: KeyMust,
		Says:  "No block is delayed: it is sent fully, or its sending goes on while the application makes the next.",
		Cases: []string{"body.yield-not-delayed"}},
	{ID: "write.sent-or-queued", Section: "The write() Callable", Keyword: KeyMust,
		Says:  "Before write() returns its bytes are sent or queued for sending while the application goes on.",
		Cases: []string{"write.not-held"}},
	{ID: "write.iterable-output", Section: "The write() Callable", Keyword: KeyMust,
		Says:  "The returned iterable may be empty; what it does yield is sent normally, after everything passed to write().",
		Cases: []string{"write.empty-iterable", "write.before-iterable"}},
	{ID: "unicode.latin1-only", Section: "Unicode Issues", Keyword: KeyMust,
		Says:  "The server gives the application no string with a code point above U+00FF.",
		Cases: []string{"environ.latin1-only", "environ.path-bytes-latin1", "environ.header-bytes-latin1"}},
	{ID: "unicode.str-type", Section: "Unicode Issues", Keyword: KeyMust,
		Says:  "Strings the server passes are of type str.",
		Cases: []string{"environ.cgi-values-are-str"}},
	{ID: "unicode.input-bytes", Section: "Unicode Issues", Keyword: KeyMust,
		Says:  "Values read from wsgi.input are bytes.",
		Cases: []string{"input.returns-bytes"}},
	{ID: "strings.latin1-bytes", Section: "A Note On String Types", Keyword: KeyMust,
		Says:  "Native strings are bytes as latin-1: request bytes arrive one code point per byte.",
		Cases: []string{"environ.path-bytes-latin1", "environ.header-bytes-latin1"}},
	{ID: "errors.trap-and-log", Section: "Error Handling", Keyword: KeyShould,
		Says:  "The server traps and logs an exception that aborts the application or its iteration.",
		Cases: []string{"exc_info.unhandled-exception", "exc_info.error-before-body", "close.on-iteration-error"},
		Gap:   "That the server goes on serving is checked; its log is not read."},
	{ID: "errors.may-add-message", Section: "Error Handling", Keyword: KeyMay,
		Says:       "After a partial text/* response the server may append an error message.",
		Untestable: "A permission."},
	{ID: "errors.abort-response", Section: "Error Handling", Keyword: KeyOther,
		Says:  "The server traps the exception start_response re-raised and aborts the response.",
		Cases: []string{"exc_info.response-aborted"}},
	{ID: "expect.transparent", Section: "HTTP 1.1 Expect/Continue", Keyword: KeyMust,
		Says:  "An HTTP/1.1 server supports Expect: 100-continue transparently.",
		Cases: []string{"input.expect-continue", "input.expect-continue-interim"}},
	{ID: "expect.read-blocks", Section: "HTTP 1.1 Expect/Continue", Keyword: KeyMust,
		Says:  "A server that sends 100 Continue when the application first reads wsgi.input keeps that read blocked until the client has sent the body.",
		Cases: []string{"input.expect-continue"}},
	{ID: "expect.not-left-to-client", Section: "HTTP 1.1 Expect/Continue", Keyword: KeyOther,
		Says:  "Leaving it to the client to give up waiting and send the body on its own is allowed but suboptimal and not recommended: the server answers 100 Continue, at once or on the first read.",
		Cases: []string{"input.expect-continue-interim"}},
	{ID: "http.play-dumb", Section: "Other HTTP Features", Keyword: KeyShould,
		Says:  "The server gives the application complete control of its output, changing nothing that alters its meaning.",
		Cases: []string{"body.app-content-length-kept", "start_response.set-cookie-kept-apart", "start_response.reason-phrase-kept", "start_response.unusual-status-kept"}},
	{ID: "http.inbound-hop-by-hop", Section: "Other HTTP Features", Keyword: KeyMust,
		Says:  "The server handles the inbound hop-by-hop headers it supports itself, decoding chunked request bodies.",
		Cases: []string{"input.chunked-body", "input.chunked-terminated", "http.content-length-with-chunked"}},
	{ID: "http.may-cache-validate", Section: "Other HTTP Features", Keyword: KeyMay,
		Says:       "The server may handle If-None-Match and If-Modified-Since.",
		Untestable: "A permission."},
	{ID: "http.may-re-encode", Section: "Other HTTP Features", Keyword: KeyMay,
		Says:       "The server may re-encode or transport-encode the response.",
		Untestable: "A permission (what it sends then is judged by the framing cases)."},
	{ID: "http.may-byte-ranges", Section: "Other HTTP Features", Keyword: KeyMay,
		Says:       "The server may send byte ranges the client asked for.",
		Untestable: "A permission."},
	{ID: "thread.single-threaded-option", Section: "Thread Support", Keyword: KeyShould,
		Says:       "A server that runs requests in parallel offers a single-threaded mode.",
		Untestable: "A configuration option, not behaviour over HTTP."},
	{ID: "ext.via-replaced-portion", Section: "Server Extension APIs", Keyword: KeyMust,
		Says:       "Extension APIs that replace WSGI functionality are invoked through the part they replace (given the current environ).",
		Untestable: "Server-specific APIs, which a server-independent probe cannot call."},
	{ID: "ext.middleware-assumed", Section: "Server Extension APIs", Keyword: KeyShould,
		Says:       "Server developers do not assume that nobody uses middleware: an extension API must keep working when middleware sits between the server and the application.",
		Untestable: "Server-specific APIs, which a server-independent probe cannot call."},
	{ID: "ext.refuse-disagreeing", Section: "Server Extension APIs", Keyword: KeyMust,
		Says:       "An extension API that cannot agree with environ refuses service.",
		Untestable: "Server-specific APIs."},
	{ID: "ext.output-takes-start-response", Section: "Server Extension APIs", Keyword: KeyShould,
		Says:       "An extension API that offers another way to write the response or its headers requires the application to pass in start_response first.",
		Untestable: "Server-specific APIs."},
	{ID: "ext.start-response-identity", Section: "Server Extension APIs", Keyword: KeyMust,
		Says:       "An output extension refuses an application that passes another start_response than its own.",
		Untestable: "Server-specific APIs."},
	{ID: "config.document", Section: "Application Configuration", Keyword: KeyOther,
		Says:       "The server documents how to configure it to run an application.",
		Untestable: "A duty to document."},
	{ID: "config.name-value-pairs", Section: "Application Configuration", Keyword: KeyShould,
		Says:       "The deployer can put name-value pairs into environ.",
		Untestable: "A configuration feature, set up differently per server."},
	{ID: "url.reconstructable", Section: "URL Reconstruction", Keyword: KeyOther,
		Says:  "The environ lets the application rebuild the request URL: scheme, host or SERVER_NAME and SERVER_PORT, SCRIPT_NAME, PATH_INFO, QUERY_STRING.",
		Cases: []string{"environ.wsgi-url-scheme", "environ.server-name-without-host", "environ.script-name", "environ.path-info", "environ.query-string"}},
	{ID: "old.for-loop", Section: "Supporting Older (<2.2) Versions of Python", Keyword: KeyMust,
		Says:       "A server for Python before 2.2 iterates only with a for loop.",
		Untestable: "Python 3 only: no such server is in scope."},
	{ID: "fw.may-provide", Section: "Optional Platform-Specific File Handling", Keyword: KeyMay,
		Says:  "The server may provide wsgi.file_wrapper.",
		Cases: []string{"file_wrapper.filelike-iterable"}},
	{ID: "fw.signature", Section: "Optional Platform-Specific File Handling", Keyword: KeyMust,
		Says:  "wsgi.file_wrapper takes the file-like object and an optional block size, positionally.",
		Cases: []string{"file_wrapper.filelike-iterable"},
		Gap:   "Called with a block size only; a call without one is not tried."},
	{ID: "fw.block-size-suggestion", Section: "Optional Platform-Specific File Handling", Keyword: KeyMay,
		Says:       "The block size given to wsgi.file_wrapper is a suggestion the server need not follow.",
		Untestable: "A permission: the cases judge the bytes sent, not the size of the reads."},
	{ID: "fw.iterable", Section: "Optional Platform-Specific File Handling", Keyword: KeyMust,
		Says:  "wsgi.file_wrapper returns an iterable.",
		Cases: []string{"file_wrapper.filelike-iterable"}},
	{ID: "fw.no-early-transmission", Section: "Optional Platform-Specific File Handling", Keyword: KeyMust,
		Says:  "Wrapping sends nothing until the application returns the wrapper.",
		Cases: []string{"file_wrapper.no-early-transmission"}},
	{ID: "fw.close", Section: "Optional Platform-Specific File Handling", Keyword: KeyMust,
		Says:  "The wrapper's close() calls the file's close().",
		Cases: []string{"file_wrapper.closes-file"}},
	{ID: "fw.may-assume-file-methods", Section: "Optional Platform-Specific File Handling", Keyword: KeyMay,
		Says:       "The wrapper may assume that methods of the file-like object named like a built-in file's (fileno()) behave like them.",
		Untestable: "A permission."},
	{ID: "fw.after-return", Section: "Optional Platform-Specific File Handling", Keyword: KeyMust,
		Says:  "Platform-specific sending happens only after the application returned and the server found its own wrapper.",
		Cases: []string{"file_wrapper.no-early-transmission", "body.iterable-attributes-unused"}},
	{ID: "fw.read-semantics", Section: "Optional Platform-Specific File Handling", Keyword: KeyShould,
		Says:  "Sending starts at the file's current position and stops at its end or the Content-Length.",
		Cases: []string{"file_wrapper.honours-position", "file_wrapper.honours-content-length"}},
	{ID: "fw.may-generate-length", Section: "Optional Platform-Specific File Handling", Keyword: KeyMay,
		Says:       "Without a Content-Length the server may compute one from the file.",
		Untestable: "A permission."},
	{ID: "fw.portable", Section: "Optional Platform-Specific File Handling", Keyword: KeyMust,
		Says:  "For an object unsuited to the platform API, the wrapper still iterates over read() and closes.",
		Cases: []string{"file_wrapper.filelike-iterable", "file_wrapper.closes-file"}},
}

// Keywords and Coverages are in the order summaries show them.
var (
	Keywords  = []Keyword{KeyMust, KeyShould, KeyMay, KeyOther}
	Coverages = []Coverage{Covered, Partly, Uncovered, Untestable}
)

// CoverageCount counts statements by how far they are covered.
type CoverageCount map[Coverage]int

// Total is the number of statements counted.
func (c CoverageCount) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// String is "covered/partly/none/untestable", or "-" when nothing is counted.
func (c CoverageCount) String() string {
	if c.Total() == 0 {
		return "-"
	}
	var parts []string
	for _, cov := range Coverages {
		parts = append(parts, strconv.Itoa(c[cov]))
	}
	return strings.Join(parts, "/")
}

// SectionCoverage is one PEP section's statements counted per keyword.
type SectionCoverage struct {
	Section   string                    `json:"section"`
	ByKeyword map[Keyword]CoverageCount `json:"by_keyword"`
}

// CoverageBySection counts the index per section (in the PEP's order) and keyword; the last
// entry, Section "all", is the whole PEP.
func CoverageBySection() []SectionCoverage {
	var out []SectionCoverage
	index := map[string]int{}
	all := SectionCoverage{Section: "all", ByKeyword: map[Keyword]CoverageCount{}}
	for _, s := range statements {
		i, ok := index[s.Section]
		if !ok {
			i = len(out)
			index[s.Section] = i
			out = append(out, SectionCoverage{Section: s.Section, ByKeyword: map[Keyword]CoverageCount{}})
		}
		for _, sc := range []SectionCoverage{out[i], all} {
			if sc.ByKeyword[s.Keyword] == nil {
				sc.ByKeyword[s.Keyword] = CoverageCount{}
			}
			sc.ByKeyword[s.Keyword][s.Coverage()]++
		}
	}
	return append(out, all)
}
