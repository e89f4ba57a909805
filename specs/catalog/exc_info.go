package catalog

// exc_info: replacing the response before anything is sent, re-raising after; unhandled errors.
func init() {
	const (
		section = "The start_response() Callable"
		replace = "If exc_info is supplied, and no HTTP headers have been output yet, start_response should replace the currently-stored HTTP response headers with the newly-supplied ones, thus allowing the application to \"change its mind\" about the output when an error has occurred."
		reraise = "However, if exc_info is provided, and the HTTP headers have already been sent, start_response must raise an error, and should re-raise using the exc_info tuple."
	)
	Register(
		Case{ID: "exc_info.replaces-before-send", Area: "exc_info", Section: section, Level: Should,
			Title:       "start_response with exc_info before any output replaces status and headers",
			Requirement: replace},
		Case{ID: "exc_info.replaces-after-empty-chunk", Area: "exc_info", Section: section, Level: Should,
			Title:       "start_response with exc_info after only an empty bytestring still replaces status and headers",
			Requirement: replace},
		Case{ID: "exc_info.raises-after-send", Area: "exc_info", Section: section, Level: Must,
			Title:       "start_response with exc_info after headers were sent raises",
			Requirement: reraise},
		Case{ID: "exc_info.reraises-original", Area: "exc_info", Section: section, Level: Should,
			Title:       "start_response with exc_info after headers were sent re-raises the original exception",
			Requirement: reraise},
		Case{ID: "exc_info.response-aborted", Area: "exc_info", Section: "Error Handling", Level: Info,
			Title:       "a response aborted after its headers were sent does not look complete",
			Requirement: "However, if any output has already been sent to the browser, start_response will reraise the provided exception. This exception should not be trapped by the application, and so the application will abort. The server or gateway can then trap this (fatal) exception and abort the response. (Checked: no last chunk, no second status line.)"},
		Case{ID: "exc_info.unhandled-exception", Area: "exc_info", Section: "Error Handling", Level: Should,
			Title:       "an exception escaping the application is trapped: a 5xx or a closed connection, and the server keeps serving",
			Requirement: "Servers should trap and log any exception that aborts an application or the iteration of its return value."},
		Case{ID: "exc_info.error-before-body", Area: "exc_info", Section: "The start_response() Callable", Level: Must,
			Title:       "an exception after start_response but before any body: the stored status and headers are never sent",
			Requirement: "However, the start_response callable must not actually transmit the response headers. Instead, it must store them for the server or gateway to transmit only after the first iteration of the application return value that yields a non-empty bytestring, or upon the application's first invocation of the write() callable. ... This delaying of response header transmission is to ensure that buffered and asynchronous applications can replace their originally intended output with error output, up until the last possible moment.",
			LevelWhy:    "MUST, the deferred-headers rule: no body was produced, so the stored status was never due. A 5xx (Servers should trap and log any exception that aborts an application) is what the case expects instead, and what it reports."},
	)
}
