package conformance

import (
	"strings"
)

// fileContent regenerates the probe's file: byte i is (i*31 + i/256) % 256, so every offset in
// 64 KiB holds a distinct (value, neighbour) pattern and a wrong start position shows.
func fileContent(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte((i*31 + i/256) % 256)
	}
	return b
}

const fileSize = 64 << 10

// fileWrapper sends r (a /file-wrapper request) and skips the case when the server has no
// file_wrapper.
func (k *check) fileWrapper(r request) exchange {
	x := k.do(r)
	if x.resp.Status == 501 && x.resp.Header.Has("X-Probe-No-File-Wrapper") {
		k.skipf("the server provides no wsgi.file_wrapper (it is optional)")
	}
	return x
}

var _ = nodes.Describe("wsgi.file_wrapper", func() {
	caseSpec("file_wrapper.filelike-iterable", func(k *check) {
		k.expect("the 64 KiB content of an object with only read(size) and close(), wrapped with block size 8192")
		x := k.fileWrapper(request{path: probePath("/file-wrapper", "mode", "filelike"), until: untilLen(fileSize)})
		if diff := bytesDiff(x.resp.Body, fileContent(fileSize)); diff != "" {
			k.failf("%q, body differs: %s", x.resp.StatusLine, diff)
		}
		k.saw("the whole content arrived")
	})

	caseSpec("file_wrapper.closes-file", func(k *check) {
		k.needProbeDir()
		k.expect("close() of the wrapped object called within %v, for a real file (fileno(): sendfile possible) and for an object with only read() and close()", closeWait)
		var missing, seen []string
		for _, mode := range []string{"real", "filelike"} {
			token := newToken()
			x := k.fileWrapper(request{path: probePath("/file-wrapper", "mode", mode), token: token, until: untilLen(fileSize)})
			rs := awaitRecords(token, closeWait, func(rs []record) bool { return count(rs, "file-closed") > 0 })
			seen = append(seen, mode+": "+eventList(rs))
			if count(rs, "file-closed") == 0 {
				k.skipUnlessAppCalled(x, noJudge)
				missing = append(missing, mode)
			}
		}
		if len(missing) > 0 {
			k.failf("the %s object was not closed (%s)", strings.Join(missing, " and "), strings.Join(seen, "; "))
		}
		k.saw("%s", strings.Join(seen, "; "))
	})

	caseSpec("file_wrapper.honours-position", func(k *check) {
		k.expect("the real file's content from offset 1000 on, when the application seeks there before wrapping it")
		x := k.fileWrapper(request{path: probePath("/file-wrapper", "mode", "real", "seek", "1000"), until: untilLen(fileSize - 1000)})
		if diff := bytesDiff(x.resp.Body, fileContent(fileSize)[1000:]); diff != "" {
			k.failf("body differs from the content after offset 1000: %s", diff)
		}
		k.saw("the content from offset 1000 arrived")
	})

	caseSpec("file_wrapper.honours-content-length", func(k *check) {
		k.expect("only the first 1000 bytes of the 64 KiB real file when the application sets Content-Length: 1000")
		x := k.fileWrapper(request{path: probePath("/file-wrapper", "mode", "real", "cl", "1000")})
		if diff := bytesDiff(x.resp.Body, fileContent(fileSize)[:1000]); diff != "" {
			k.failf("body differs from the first 1000 bytes: %s", diff)
		}
		k.saw("the first 1000 bytes, %s", k.afterResponse(x))
	})

	caseSpec("file_wrapper.no-early-transmission", func(k *check) {
		k.expect("body \"returned body\" only, when the application creates a file_wrapper and returns a list instead")
		x := k.fileWrapper(request{path: probePath("/file-wrapper", "mode", "discarded"), until: untilHas("returned body")})
		if string(x.resp.Body) != "returned body" {
			k.failf("body %q", clip(x.resp.Body))
		}
		k.saw("body \"returned body\"")
	})
})
