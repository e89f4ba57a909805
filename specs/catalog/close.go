package catalog

// close(): the iterable's close method.
func init() {
	const (
		section  = "Specification Details"
		mustCall = "If the iterable returned by the application has a close() method, the server or gateway must call that method upon completion of the current request, whether the request was completed normally, or terminated early due to an application error during iteration or an early disconnect of the browser."
	)
	Register(
		Case{ID: "close.on-completion", Area: "close", Section: section, Level: Must,
			Title:       "close() is called after a normal response",
			Requirement: mustCall},
		Case{ID: "close.on-iteration-error", Area: "close", Section: section, Level: Must,
			Title:       "close() is called when iteration raises",
			Requirement: mustCall},
		Case{ID: "close.on-start-response-error", Area: "close", Section: section, Level: Must,
			Title:       "close() is called when start_response raises inside the iterable",
			Requirement: mustCall + " (Here the error is start_response re-raising exc_info after the headers were sent.)"},
		Case{ID: "close.on-disconnect", Area: "close", Section: section, Level: Must,
			Title:       "close() is called when the client disconnects mid-body",
			Requirement: mustCall},
		Case{ID: "close.called-once", Area: "close", Section: section, Level: Info,
			Title:       "close() is called exactly once per request",
			Requirement: "Not stated by PEP 3333, whose example gateway calls close() once in a finally block; calling it twice runs an application's cleanup twice."},
		Case{ID: "close.on-head", Area: "close", Section: section, Level: Must,
			Title:       "close() is called for a HEAD request, whose body the server does not send",
			Requirement: mustCall},
		Case{ID: "close.on-content-length-cut", Area: "close", Section: section, Level: Must,
			Title:       "close() is called when the server stops at the application's Content-Length",
			Requirement: mustCall},
		Case{ID: "close.on-rejected-headers", Area: "close", Section: section, Level: Must,
			Title:       "close() is called when the server rejects the headers the iterable passes to start_response",
			Requirement: mustCall},
	)
}
