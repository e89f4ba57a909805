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
		Case{ID: "start_response.second-call-raises", Area: "start_response", Section: section, Level: Must,
			Title:       "a second start_response call without exc_info raises",
			Requirement: "The application may call start_response more than once, if and only if the exc_info argument is provided. More precisely, it is a fatal error to call start_response without the exc_info argument if start_response has already been called within the current invocation of the application."},
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
	)
}
