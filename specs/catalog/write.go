package catalog

// The write() callable.
func init() {
	const section = "The write() Callable"
	Register(
		Case{ID: "write.not-held", Area: "write", Section: section, Level: Must,
			Title:       "bytes passed to write() reach the client while the application goes on",
			Requirement: "In other words, before write() returns, it must guarantee that the passed-in bytestring was either completely sent to the client, or that it is buffered for transmission while the application proceeds onward."},
		Case{ID: "write.before-iterable", Area: "write", Section: section, Level: Must,
			Title:       "written bytes come before yielded bytes, in call order",
			Requirement: "Applications must not invoke write() from within their return iterable, and therefore any bytestrings yielded by the iterable are transmitted after all bytestrings passed to write() have been sent to the client."},
		Case{ID: "write.past-content-length", Area: "write", Section: "Handling the Content-Length Header", Level: Should,
			Title:       "write() past the application's Content-Length raises, and no byte beyond it is sent",
			Requirement: "If the application supplies a Content-Length header, the server should not transmit more bytes to the client than the header allows, and should stop iterating over the response when enough data has been sent, or raise an error if the application tries to write() past that point."},
		Case{ID: "write.empty-iterable", Area: "write", Section: "The write() Callable", Level: Must,
			Title:       "a body made only with write() and an empty returned iterable is sent whole",
			Requirement: "An application must return an iterable object, even if it uses write() to produce all or part of its response body. The returned iterable may be empty (i.e. yield no non-empty bytestrings), but if it does yield non-empty bytestrings, that output must be treated normally by the server or gateway (i.e., it must be sent or queued immediately).",
			LevelWhy:    "MUST: write() \"must guarantee that the passed-in bytestring was either completely sent to the client, or that it is buffered for transmission\"; the empty iterable is the application's permission, and the written body must still arrive complete."},
	)
}
