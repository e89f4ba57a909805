package catalog

// wsgi.errors: the error stream.
func init() {
	const (
		streams = "Input and Error Streams"
		methods = "The methods listed in the table above must be supported by all servers conforming to this specification. "
	)
	Register(
		Case{ID: "errors.write", Area: "errors", Section: streams, Level: Must,
			Title:       "wsgi.errors.write(str) works",
			Requirement: methods + "(write(str) on errors.)"},
		Case{ID: "errors.writelines", Area: "errors", Section: streams, Level: Must,
			Title:       "wsgi.errors.writelines(seq) works",
			Requirement: methods + "(writelines(seq) on errors.)"},
		Case{ID: "errors.flush", Area: "errors", Section: streams, Level: Must,
			Title:       "wsgi.errors.flush() works",
			Requirement: methods + "(flush() on errors.)"},
		Case{ID: "errors.unicode", Area: "errors", Section: "environ Variables", Level: Should,
			Title:       "wsgi.errors accepts arbitrary unicode without raising",
			Requirement: "On platforms where the str type is unicode, the error stream should accept and log arbitrary unicode without raising an error; it is allowed, however, to substitute characters that cannot be rendered in the stream's encoding."},
	)
}
