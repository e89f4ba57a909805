package catalog

// wsgi.file_wrapper, when the server provides it (it may not: such servers skip these cases).
func init() {
	const (
		section  = "Optional Platform-Specific File Handling"
		position = "Apart from the handling of close(), the semantics of returning a file wrapper from the application should be the same as if the application had returned iter(filelike.read, ''). In other words, transmission should begin at the current position within the \"file\" at the time that transmission begins, and continue until the end is reached, or until Content-Length bytes have been written."
	)
	Register(
		Case{ID: "file_wrapper.filelike-iterable", Area: "file_wrapper", Section: section, Level: Must,
			Title:       "wrapping an object with only read() and close() sends its whole content",
			Requirement: "Note that even if the object is not suitable for the platform API, the wsgi.file_wrapper must still return an iterable that wraps read() and close(), so that applications using file wrappers are portable across platforms."},
		Case{ID: "file_wrapper.closes-file", Area: "file_wrapper", Section: section, Level: Must,
			Title:       "the wrapped file's close() is called, for a real file and a file-like object",
			Requirement: "It may have a close() method, and if so, the iterable returned by wsgi.file_wrapper must have a close() method that invokes the original file-like object's close() method."},
		Case{ID: "file_wrapper.honours-position", Area: "file_wrapper", Section: section, Level: Should,
			Title:       "transmission starts at the file's current position",
			Requirement: position},
		Case{ID: "file_wrapper.honours-content-length", Area: "file_wrapper", Section: section, Level: Should,
			Title:       "transmission stops after the application's Content-Length",
			Requirement: position},
		Case{ID: "file_wrapper.no-early-transmission", Area: "file_wrapper", Section: section, Level: Must,
			Title:       "a wrapper the application creates but does not return sends nothing",
			Requirement: "The callable must return an iterable object, and must not perform any data transmission until and unless the server/gateway actually receives the iterable as a return value from the application."},
	)
}
