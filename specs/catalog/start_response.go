package catalog

// start_response: what it returns, when it may be called, what it checks.
func init() {
	const (
		section = "The start_response() Callable"
		checkAt = "Servers should check for errors in the headers at the time start_response is called, so that an error can be raised while the application is still running."
	)
	Register(
		Case{ID: "start_response.returns-write", Area: "start_response", Section: "Specification Details", Level: Must,
			Title:       "start_response returns a write callable",
			Requirement: "The start_response callable must return a write(body_data) callable that takes one positional parameter: a bytestring to be written as part of the HTTP response body."},
		Case{ID: "start_response.lazy-call", Area: "start_response", Section: "Specification Details", Level: Must,
			Title:       "start_response may be called by the iterable's first iteration",
			Requirement: "However, this invocation may be performed by the iterable's first iteration, so servers must not assume that start_response() has been called before they begin iterating over the iterable."},
		Case{ID: "start_response.second-call-raises", Area: "start_response", Section: section, Level: Should,
			Title:       "a second start_response call without exc_info raises",
			Requirement: "The application may call start_response more than once, if and only if the exc_info argument is provided. More precisely, it is a fatal error to call start_response without the exc_info argument if start_response has already been called within the current invocation of the application.",
			LevelWhy:    "SHOULD: the fatal error is the application's; no sentence says the server must raise. The example gateway raises AssertionError, and the PEP's one rule for the server on an application's fatal error (hop-by-hop headers) says it should consider it fatal and raise an error: a SHOULD."},
		Case{ID: "start_response.second-call-after-raise", Area: "start_response", Section: section, Level: Should,
			Title:       "a start_response call without exc_info after a first call that raised raises too",
			Requirement: "More precisely, it is a fatal error to call start_response without the exc_info argument if start_response has already been called within the current invocation of the application. This includes the case where the first call to start_response raised an error.",
			LevelWhy:    "SHOULD, as start_response.second-call-raises: the fatal error is the application's, and the server's part is to treat it as fatal and raise. The PEP's example gateway shows how: it stores the status and headers before checking them, so that after a failed check only a call with exc_info is accepted."},
		Case{ID: "start_response.checks-status", Area: "start_response", Section: section, Level: Should,
			Title:       "an invalid status (control characters, not a str, no code) raises when start_response is called",
			Requirement: checkAt + " (The status string must not contain control characters, and must not be terminated with a carriage return, linefeed, or combination thereof.)"},
		Case{ID: "start_response.checks-headers", Area: "start_response", Section: section, Level: Should,
			Title:       "invalid headers (control characters, wrong types, bad names, not a list) raise when start_response is called",
			Requirement: checkAt + " (response_headers must be a Python list of (header_name, header_value) tuples; each header_name must be a valid HTTP field-name; each header_value must not include any control characters, including carriage returns or linefeeds.)"},
		Case{ID: "start_response.rejects-hop-by-hop", Area: "start_response", Section: section, Level: Should,
			Title:       "a hop-by-hop header passed to start_response raises",
			Requirement: "Applications and middleware are forbidden from using HTTP/1.1 \"hop-by-hop\" features or headers, any equivalent features in HTTP/1.0, or any headers that would affect the persistence of the client's connection to the web server. These features are the exclusive province of the actual web server, and a server or gateway should consider it a fatal error for an application to attempt sending them, and raise an error if they are supplied to start_response()."},
		Case{ID: "start_response.adds-date", Area: "start_response", Section: section, Level: Must,
			Title:       "the server adds the Date header HTTP requires when the app omits it",
			Requirement: "In general, the server or gateway is responsible for ensuring that correct headers are sent to the client: if the application omits a header required by HTTP (or other relevant specifications that are in effect), the server or gateway must add it. For example, the HTTP Date: and Server: headers would normally be supplied by the server or gateway."},
		Case{ID: "start_response.header-names-any-case", Area: "start_response", Section: section, Level: Must,
			Title:       "Content-Length, Date, Transfer-Encoding and Connection from the application are handled alike in any case",
			Requirement: "(A reminder for server/gateway authors: HTTP header names are case-insensitive, so be sure to take that into consideration when examining application-supplied headers!) ... if the application omits a header required by HTTP (or other relevant specifications that are in effect), the server or gateway must add it.",
			LevelWhy:    "MUST: the reminder has no keyword of its own; it qualifies the MUST that the server send correct headers (and, for a body it frames, comply fully with RFC 2616). A server that misses a lower-case content-length adds a second length or chunks beside it, and the response is malformed. The case compares each name's canonical and odd spelling, so what a server does with the canonical one (a hop-by-hop header passed on, say, which start_response.rejects-hop-by-hop judges) is not charged here."},
		Case{ID: "start_response.set-cookie-kept-apart", Area: "start_response", Section: "Other HTTP Features", Level: Should,
			Title:       "two Set-Cookie headers from the application are sent as two fields",
			Requirement: "In general, servers and gateways should \"play dumb\" and allow the application complete control over its output. They should only make changes that do not alter the effective semantics of the application's response. (Set-Cookie values cannot be joined with a comma: RFC 6265 section 3.)"},
		Case{ID: "start_response.reason-phrase-kept", Area: "start_response", Section: "Other HTTP Features", Level: Should,
			Title:       "the application's own reason phrase reaches the client",
			Requirement: "In general, servers and gateways should \"play dumb\" and allow the application complete control over its output. (The status is \"a string consisting of a Status-Code and a Reason-Phrase\", supplied by the application so that the server needs no table of messages.)"},
		Case{ID: "start_response.unusual-status-kept", Area: "start_response", Section: "Other HTTP Features", Level: Should,
			Title:       "unregistered status codes (299, 531) are passed through as given",
			Requirement: "In general, servers and gateways should \"play dumb\" and allow the application complete control over its output. They should only make changes that do not alter the effective semantics of the application's response."},
	)
}
