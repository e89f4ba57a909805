package catalog

// Request handling beyond PEP 3333: malformed, ambiguous or hostile requests. INFO: PEP 3333
// states none of it, but each is where a gateway decides what the application gets to see.
func init() {
	const section = "Other HTTP Features"
	Register(
		Case{ID: "http.underscore-header", Area: "http", Section: section, Level: Info,
			Title:       "Foo_Bar does not override or merge into Foo-Bar's HTTP_FOO_BAR",
			Requirement: "Not stated by PEP 3333. Header names Foo-Bar and Foo_Bar both map to HTTP_FOO_BAR; a client (or a proxy that passes underscores) must not be able to spoof a header a proxy set, so the underscore form is dropped (nginx, Apache 2.4, gunicorn 22 and later do)."},
		Case{ID: "http.content-length-with-chunked", Area: "http", Section: section, Level: Info,
			Title:       "Content-Length together with Transfer-Encoding: chunked is rejected, or chunked wins and the connection closes",
			Requirement: "Not stated by PEP 3333. RFC 9112 section 6.3: a server MAY reject a request that contains both Content-Length and Transfer-Encoding or process such a request in accordance with the Transfer-Encoding alone. Regardless, the server MUST close the connection after responding to such a request."},
		Case{ID: "http.conflicting-content-length", Area: "http", Section: section, Level: Info,
			Title:       "two different Content-Length values get a 400",
			Requirement: "Not stated by PEP 3333. RFC 9112 section 6.3: if a message is received without Transfer-Encoding and with an invalid Content-Length header field, then the message framing is invalid and the recipient MUST treat it as an unrecoverable error; a server MUST respond with a 400 (Bad Request) status code and then close the connection."},
		Case{ID: "http.script-name-header", Area: "http", Section: section, Level: Info,
			Title:       "a SCRIPT_NAME request header does not change SCRIPT_NAME or PATH_INFO",
			Requirement: "Not stated by PEP 3333. SCRIPT_NAME is the mount point the server was configured with; a header named SCRIPT_NAME or Script-Name is client input and may only appear as an HTTP_ variable (or be dropped)."},
		Case{ID: "http.oversized-headers", Area: "http", Section: section, Level: Info,
			Title:       "a 256 KiB request header section is refused with 4xx or a close, and the server keeps serving",
			Requirement: "Not stated by PEP 3333. RFC 6585 section 5: 431 Request Header Fields Too Large; a server that accepts header sections of any size can be made to exhaust its memory."},
	)
}
