package catalog

// Deferred header sending: headers go out with the first non-empty body data, not before.
func init() {
	const (
		section  = "The start_response() Callable"
		deferred = "However, the start_response callable must not actually transmit the response headers. Instead, it must store them for the server or gateway to transmit only after the first iteration of the application return value that yields a non-empty bytestring, or upon the application's first invocation of the write() callable."
	)
	Register(
		Case{ID: "headers.deferred-until-body", Area: "headers", Section: section, Level: Must,
			Title:       "headers are not sent before the first body bytestring",
			Requirement: deferred},
		Case{ID: "headers.empty-chunk-not-body", Area: "headers", Section: section, Level: Must,
			Title:       "an empty bytestring does not trigger sending the headers",
			Requirement: deferred},
		Case{ID: "headers.sent-when-exhausted", Area: "headers", Section: section, Level: Must,
			Title:       "an empty body still gets its status and headers when the iterable is exhausted",
			Requirement: "In other words, response headers must not be sent until there is actual body data available, or until the application's returned iterable is exhausted."},
	)
}
