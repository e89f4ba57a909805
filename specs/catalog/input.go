package catalog

// wsgi.input: the request body stream.
func init() {
	const (
		streams = "Input and Error Streams"
		methods = "The methods listed in the table above must be supported by all servers conforming to this specification. "
		note1   = "The server is not required to read past the client's specified Content-Length, and should simulate an end-of-file condition if the application attempts to read past that point."
		empty   = "A server should return empty bytestrings from any attempt to read from an empty or exhausted input stream."
		expect  = "HTTP 1.1 Expect/Continue"
	)
	Register(
		Case{ID: "input.read-size", Area: "input", Section: streams, Level: Must,
			Title:       "read(size) returns the body in pieces of at most size bytes",
			Requirement: methods + "(read(size) on input; its semantics are as documented in the Python Library Reference.)"},
		Case{ID: "input.read-no-argument", Area: "input", Section: streams, Level: Should,
			Title:       "read() without an argument returns the rest of the body",
			Requirement: "A server should allow read() to be called without an argument, and return the remainder of the client's input stream."},
		Case{ID: "input.readline", Area: "input", Section: streams, Level: Must,
			Title:       "readline() returns one line at a time, then b\"\"",
			Requirement: methods + "(readline() on input.)"},
		Case{ID: "input.readline-size", Area: "input", Section: streams, Level: Should,
			Title:       "readline(size) returns at most size bytes of the line",
			Requirement: "Servers should support the optional \"size\" argument to readline(), but as in WSGI 1.0, they are allowed to omit support for it."},
		Case{ID: "input.readlines", Area: "input", Section: streams, Level: Must,
			Title:       "readlines() returns every line",
			Requirement: methods + "(readlines(hint) on input; note that the hint argument to readlines() is optional for both caller and implementer.)"},
		Case{ID: "input.iteration", Area: "input", Section: streams, Level: Must,
			Title:       "iterating over wsgi.input yields the lines",
			Requirement: methods + "(__iter__() on input.)"},
		Case{ID: "input.returns-bytes", Area: "input", Section: "Unicode Issues", Level: Must,
			Title:       "everything read from wsgi.input is bytes",
			Requirement: "For values referred to in this specification as \"bytestrings\" (i.e., values read from wsgi.input, passed to write() or yielded by the application), the value must be of type bytes under Python 3, and str in earlier versions of Python."},
		Case{ID: "input.eof-at-content-length", Area: "input", Section: streams, Level: Should,
			Title:       "reading past CONTENT_LENGTH returns what is left, without waiting for more",
			Requirement: note1},
		Case{ID: "input.exhausted-returns-empty", Area: "input", Section: streams, Level: Should,
			Title:       "read(size), read() and readline() return b\"\" once the body is consumed",
			Requirement: empty},
		Case{ID: "input.empty-returns-empty", Area: "input", Section: streams, Level: Should,
			Title:       "reading a request without a body returns b\"\" at once",
			Requirement: empty},
		Case{ID: "input.chunked-body", Area: "input", Section: "Other HTTP Features", Level: Must,
			Title:       "a chunked request body is decoded before the application reads it",
			Requirement: "WSGI servers must handle any supported inbound \"hop-by-hop\" headers on their own, such as by decoding any inbound Transfer-Encoding, including chunked encoding if applicable.",
			LevelWhy:    "MUST for a server that supports chunked request bodies: one that refuses them cleanly (411 Length Required or 501 Not Implemented, before calling the application) does not support them, and passes; one that calls the application with the body undecoded, cut or empty breaks the MUST."},
		Case{ID: "input.chunked-terminated", Area: "input", Section: "Other HTTP Features", Level: Info,
			Title:       "wsgi.input_terminated is true for a chunked request",
			Requirement: "Not stated by PEP 3333. A de facto extension (Werkzeug, gunicorn, mod_wsgi): a server that ends wsgi.input itself at the end of a body without Content-Length sets wsgi.input_terminated, and frameworks such as Flask read no body without CONTENT_LENGTH unless it is set."},
		Case{ID: "input.expect-continue", Area: "input", Section: expect, Level: Must,
			Title:       "a request with Expect: 100-continue reaches the application with its body",
			Requirement: "Servers and gateways that implement HTTP 1.1 must provide transparent support for HTTP 1.1's \"expect/continue\" mechanism."},
		Case{ID: "input.expect-continue-interim", Area: "input", Section: expect, Level: Info,
			Title:       "the server answers Expect: 100-continue with 100 Continue before the body is sent",
			Requirement: "Respond to requests containing an Expect: 100-continue request with an immediate \"100 Continue\" response, and proceed normally; or provide the application with a wsgi.input stream that will send the \"100 Continue\" response if/when the application first attempts to read from the input stream. (Waiting for the client to send the body on its own is allowed but \"suboptimal, and is not recommended\".)"},
	)
}
