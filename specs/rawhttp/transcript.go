package rawhttp

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"
)

// Transcript limits: a failure report should show the exchange's shape (request line, status
// line, headers, where the body starts and ends, when each part arrived), not megabytes of body.
const (
	blockHead   = 768 // bytes shown from the start of a block
	blockTail   = 160 // and from its end
	maxBlocks   = 40  // blocks shown: the first maxBlocks-10 and the last 10
	mergeWithin = 20 * time.Millisecond
	// maxTranscript bounds one connection's rendered transcript (escaping can quadruple bytes).
	maxTranscript = 32 << 10
)

// block is consecutive events in one direction, close enough in time to be read as one: total
// bytes, of which data holds those the connection kept.
type block struct {
	sent  bool
	at    time.Time
	data  []byte
	total int64
}

// Transcript renders the bytes exchanged so far, each block marked "> " (sent) or "< "
// (received) with its time since the connection opened, non-printable bytes escaped, CR and LF
// shown as \r and \n at the end of each line, and long blocks trimmed in the middle.
func (c *Conn) Transcript() string {
	var blocks []block
	for _, e := range c.events {
		if n := len(blocks); n > 0 && blocks[n-1].sent == e.Sent && e.At.Sub(blocks[n-1].at) < mergeWithin {
			if int64(len(blocks[n-1].data)) == blocks[n-1].total { // kept bytes stay a prefix
				blocks[n-1].data = append(blocks[n-1].data, e.Data...)
			}
			blocks[n-1].total += e.Len
			continue
		}
		blocks = append(blocks, block{sent: e.Sent, at: e.At, data: append([]byte(nil), e.Data...), total: e.Len})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "connection to %s\n", c.Addr)
	for i, bl := range blocks {
		if len(blocks) > maxBlocks && i == maxBlocks-10 {
			fmt.Fprintf(&b, "[... %d blocks omitted ...]\n", len(blocks)-maxBlocks)
		}
		if len(blocks) > maxBlocks && i >= maxBlocks-10 && i < len(blocks)-10 {
			continue
		}
		mark := "<"
		if bl.sent {
			mark = ">"
		}
		fmt.Fprintf(&b, "%s [+%.3fs, %d bytes]\n", mark, bl.at.Sub(c.opened).Seconds(), bl.total)
		writeLines(&b, mark, bl.data, bl.total)
	}
	if b.Len() > maxTranscript {
		s := b.String()
		return s[:maxTranscript/2] + fmt.Sprintf("\n[... %d bytes of transcript omitted ...]\n", len(s)-maxTranscript) + s[len(s)-maxTranscript/2:]
	}
	return b.String()
}

// writeLines renders a block of total bytes of which data is the kept prefix.
func writeLines(b *strings.Builder, mark string, data []byte, total int64) {
	shown := Escape(data)
	if len(data) > blockHead+blockTail {
		shown = Escape(data[:blockHead]) + fmt.Sprintf("[... %d bytes omitted ...]", len(data)-blockHead-blockTail) + Escape(data[len(data)-blockTail:])
	}
	if missing := total - int64(len(data)); missing > 0 {
		shown += fmt.Sprintf("[... %d more bytes, not kept ...]", missing)
	}
	for _, line := range strings.SplitAfter(shown, `\n`) {
		if line != "" {
			fmt.Fprintf(b, "%s %s\n", mark, line)
		}
	}
}

// Escape renders bytes as readable text: printable ASCII as is, backslash doubled, CR, LF and
// tab as \r, \n and \t, anything else as \xHH.
func Escape(p []byte) string {
	var b strings.Builder
	for _, c := range p {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// maxReplay bounds the replay line; a request that does not fit is described, not replayed.
const maxReplay = 16 << 10

// Reproduce returns a shell line that sends the same bytes this connection sent, for a user to
// replay by hand: printf with octal escapes piped to nc, long runs of one byte generated with
// head and tr so that oversized requests stay short.
func (c *Conn) Reproduce() string {
	line := ReplayLine(c.Addr, c.Sent())
	if _, tls := c.nc.(*tls.Conn); tls {
		// openssl speaks the TLS nc cannot; -quiet also keeps the connection after stdin ends.
		if pipe, ok := strings.CutSuffix(line, " | nc "+strings.Replace(c.Addr, ":", " ", 1)); ok {
			return pipe + " | openssl s_client -quiet -connect " + c.Addr
		}
	}
	return line
}

// ReplayLine is Reproduce for any bytes and address.
func ReplayLine(addr string, req []byte) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "80"
	}
	var parts []string
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			parts = append(parts, "printf '"+printfFormat(lit)+"'")
			lit = nil
		}
	}
	for i := 0; i < len(req); {
		j := i
		for j < len(req) && req[j] == req[i] {
			j++
		}
		if j-i >= 64 {
			flush()
			parts = append(parts, runCommand(req[i], j-i))
		} else {
			lit = append(lit, req[i:j]...)
		}
		i = j
	}
	flush()
	pipe := strings.Join(parts, "; ")
	if len(parts) > 1 {
		pipe = "{ " + pipe + "; }"
	}
	if len(pipe) > maxReplay {
		return fmt.Sprintf("# the %d-byte request is too long to replay on one line; see the transcript", len(req))
	}
	return pipe + " | nc " + host + " " + port
}

// printfFormat escapes bytes for a single-quoted printf format string.
func printfFormat(p []byte) string {
	var b strings.Builder
	for _, c := range p {
		switch {
		case c == '%':
			b.WriteString("%%")
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\'':
			b.WriteString(`'\''`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString(`\n`)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\%03o`, c)
		}
	}
	return b.String()
}

// runCommand produces n copies of byte c on stdout.
func runCommand(c byte, n int) string {
	if c == 0 {
		return fmt.Sprintf("head -c %d /dev/zero", n)
	}
	return fmt.Sprintf(`head -c %d /dev/zero | tr '\000' '\%03o'`, n, c)
}
