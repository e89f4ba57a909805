package catalog

// The response body: transmission, Content-Length, chunking, HEAD, integrity, keep-alive.
func init() {
	const (
		details = "Specification Details"
		length  = "Handling the Content-Length Header"
		binary  = "The server or gateway should treat the yielded bytestrings as binary byte sequences: in particular, it should ensure that line endings are not altered."
		chunked = "And, if the server and client both support HTTP/1.1 \"chunked encoding\", then the server may use chunked encoding to send a chunk for each write() call or bytestring yielded by the iterable, thus generating a Content-Length header for each chunk. This allows the server to keep the client connection alive, if it wishes to do so. Note that the server must comply fully with RFC 2616 when doing this, or else fall back to one of the other strategies for dealing with the absence of Content-Length."
	)
	Register(
		Case{ID: "body.yield-not-delayed", Area: "body", Section: "Buffering and Streaming", Level: Must,
			Title:       "each yielded block reaches the client before the application produces the next",
			Requirement: "WSGI servers, gateways, and middleware must not delay the transmission of any block; they must either fully transmit the block to the client, or guarantee that they will continue transmission even while the application is producing its next block."},
		Case{ID: "body.content-length-not-exceeded", Area: "body", Section: length, Level: Should,
			Title:       "no more body bytes are sent than the application's Content-Length",
			Requirement: "If the application supplies a Content-Length header, the server should not transmit more bytes to the client than the header allows, and should stop iterating over the response when enough data has been sent, or raise an error if the application tries to write() past that point."},
		Case{ID: "body.short-content-length-closes", Area: "body", Section: length, Level: Should,
			Title:       "a body shorter than its Content-Length ends with the connection closed",
			Requirement: "(Of course, if the application does not provide enough data to meet its stated Content-Length, the server should close the connection and log or otherwise report the error.)"},
		Case{ID: "body.app-content-length-kept", Area: "body", Section: "Other HTTP Features", Level: Should,
			Title:       "the application's own Content-Length is sent as given",
			Requirement: "In general, servers and gateways should \"play dumb\" and allow the application complete control over its output. They should only make changes that do not alter the effective semantics of the application's response.",
			LevelWhy:    "SHOULD, the play-dumb sentence's own word: the application's Content-Length is part of its output, and replacing it (chunking instead, or a length of the server's) takes that control away."},
		Case{ID: "body.single-item-length", Area: "body", Section: length, Level: Info,
			Title:       "a one-item list without Content-Length gets one computed",
			Requirement: "If the application does not call the write() callable, and returns an iterable whose len() is 1, then the server can automatically determine Content-Length by taking the length of the first bytestring yielded by the iterable."},
		Case{ID: "body.chunked-valid", Area: "body", Section: length, Level: Must,
			Title:       "a body without Content-Length to an HTTP/1.1 client is validly chunked or close-delimited",
			Requirement: chunked},
		Case{ID: "body.http10-not-chunked", Area: "body", Section: length, Level: Must,
			Title:       "an HTTP/1.0 client never gets a chunked body",
			Requirement: chunked + " (RFC 2616 section 3.6: a server MUST NOT send transfer-codings to an HTTP/1.0 client.)"},
		Case{ID: "body.head-no-body", Area: "body", Section: "Other HTTP Features", Level: Must,
			Title:       "a HEAD response carries no body, even though the application returned one",
			Requirement: "Not a PEP 3333 sentence: the HTTP rule the server is responsible for. RFC 9110 section 9.3.2: the HEAD method is identical to GET except that the server MUST NOT send content in the response. (PEP 3333: the server or gateway is responsible for ensuring that correct headers are sent to the client.)",
			LevelWhy:    "MUST is HTTP's level, not PEP 3333's: the PEP states no rule for HEAD, and leaves HTTP's rules to the server (it is responsible for correct headers, and must comply fully with RFC 2616 when it frames a body)."},
		Case{ID: "body.binary-intact", Area: "body", Section: details, Level: Should,
			Title:       "every byte value and line ending arrives unaltered",
			Requirement: binary},
		Case{ID: "body.large-intact", Area: "body", Section: details, Level: Should,
			Title:       "a 16 MiB body yielded in 64 KiB blocks arrives complete and in order",
			Requirement: binary},
		Case{ID: "body.keep-alive", Area: "body", Section: length, Level: Info,
			Title:       "one HTTP/1.1 connection serves Content-Length, chunked, empty and HEAD responses in turn",
			Requirement: "Not stated by PEP 3333 beyond: this allows the server to keep the client connection alive, if it wishes to do so. HTTP/1.1 connections are persistent unless either side says close (RFC 9112 section 9.3)."},
		Case{ID: "body.empty-block-mid-body", Area: "body", Section: length, Level: Must,
			Title:       "an empty bytestring yielded after the body started does not end the body",
			Requirement: chunked,
			LevelWhy:    "MUST: a chunked body must comply fully with RFC 2616, where an empty chunk is the last one; yielding b\"\" is the application's right (Middleware ... must yield an empty bytestring), so a server that writes it as a chunk ends the body early."},
		Case{ID: "body.no-content-statuses", Area: "body", Section: "Other HTTP Features", Level: Must,
			Title:       "204 and 304 responses carry no body and no chunked framing",
			Requirement: "Not a PEP 3333 sentence: the HTTP rule the server is responsible for. RFC 9110 sections 15.3.5 and 15.4.5: a 204 or 304 response cannot contain content; RFC 9112 section 6.1: a server MUST NOT send Transfer-Encoding in a 204 response. (PEP 3333: the server must comply fully with RFC 2616 when chunking.)",
			LevelWhy:    "MUST is HTTP's level: the PEP leaves framing to the server and requires full RFC compliance when it chunks."},
		Case{ID: "body.stops-at-content-length", Area: "body", Section: length, Level: Should,
			Title:       "iteration stops once the application's Content-Length has been sent (one more next(), which shows the excess, allowed)",
			Requirement: "If the application supplies a Content-Length header, the server should not transmit more bytes to the client than the header allows, and should stop iterating over the response when enough data has been sent, or raise an error if the application tries to write() past that point.",
			LevelWhy:    "SHOULD, the sentence's word. The one next() after the length was met is not charged: a server can learn that the iterable has more only by asking; what the case fails is going on iterating after a block that exceeded the length."},
		Case{ID: "body.iterable-attributes-unused", Area: "body", Section: details, Level: Must,
			Title:       "the server only iterates a returned object: its read() and fileno() are never used",
			Requirement: "Finally, servers and gateways must not directly use any other attributes of the iterable returned by the application, unless it is an instance of a type specific to that server or gateway, such as a \"file wrapper\" returned by wsgi.file_wrapper. In the general case, only attributes specified here, or accessed via e.g. the PEP 234 iteration APIs are acceptable."},
	)
}
