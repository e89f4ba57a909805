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
	)
}
