package contract

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"syscall"

	. "github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/specs/frameworks"
)

// Titles that break code which treats text as bytes, as UCS-2, or normalises it.
var unicodeTitles = []string{
	"emoji 🎉🚀 and a ZWJ sequence 👩‍💻",
	"CJK 漢字 かな カナ 한국어",
	"RTL עברית العربية and Greek Ωμέγα",
	"combining e\u0301 (not normalised to é) and precomposed é",
	"astral plane 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and a quote \" and a backslash \\",
}

const largeContentSize = 1 << 20

// largeContent is 1 MiB of printable ASCII that does not repeat at short periods, so a truncated,
// reordered or duplicated chunk shows.
func largeContent() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, largeContentSize)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = alphabet[x%uint32(len(alphabet))]
	}
	return string(b)
}

const concurrentCreates = 50

var _ = nodes.Describe("load", func() {
	step("unicode.titles", func(c *client) {
		var created []post
		for _, title := range unicodeTitles {
			created = append(created, c.createPost(title, "content: "+title))
		}
		posts := c.listPosts()
		for _, want := range created {
			var got post
			ex := c.send("GET", fmt.Sprintf("/posts/%d", want.ID), nil)
			c.statusJSON(ex, 200, &got)
			c.expectPost(ex, got, want)
			i := slices.IndexFunc(posts, func(p post) bool { return p.ID == want.ID })
			c.expect(ex, i >= 0 && posts[i] == want, fmt.Sprintf("GET /posts lists %s", describePost(want)), showIDs(ids(posts, postID)))
		}
	})

	step("body.large-content", func(c *client) {
		content := largeContent()
		created := c.createPost(unique("large"), content)
		var got post
		ex := c.send("GET", fmt.Sprintf("/posts/%d", created.ID), nil)
		c.statusJSON(ex, 200, &got)
		c.expect(ex, got.Content == content,
			fmt.Sprintf("content of %d bytes, sha256 %x", len(content), sha256.Sum256([]byte(content))),
			fmt.Sprintf("content of %d bytes, sha256 %x, first difference at byte %d", len(got.Content), sha256.Sum256([]byte(got.Content)), firstDifference(got.Content, content)))
	})

	step("concurrency.creates", func(c *client) {
		before := len(c.listPosts())
		results := make([]post, concurrentCreates)
		exchanges := make([]*exchange, concurrentCreates)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range concurrentCreates {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer GinkgoRecover()
				<-start
				exchanges[i] = c.sendWith(burstClient, "POST", "/posts", map[string]any{"title": unique(fmt.Sprintf("concurrent %d", i)), "content": "c"})
			}()
		}
		close(start) // all at once
		wg.Wait()
		if limit, ok := serverLimit(exchanges); ok {
			AddReportEntry(frameworks.ServerLimitEntry, limit, ReportEntryVisibilityNever)
			c.expect(exchanges[0], false, fmt.Sprintf("%d answers 201 to %d simultaneous connections", concurrentCreates, concurrentCreates), limit)
		}

		distinct := map[int64]bool{}
		for i, ex := range exchanges {
			c.statusJSON(ex, 201, &results[i])
			c.created = append(c.created, results[i].ID)
			want := post{ID: results[i].ID, Title: unique(fmt.Sprintf("concurrent %d", i)), Content: "c"}
			c.expectPost(ex, results[i], want)
			distinct[results[i].ID] = true
		}
		c.expect(exchanges[0], len(distinct) == concurrentCreates, fmt.Sprintf("%d distinct ids", concurrentCreates),
			fmt.Sprintf("%d distinct ids: %v", len(distinct), ids(results, postID)))
		after := len(c.listPosts())
		c.expect(c.last, after-before == concurrentCreates, fmt.Sprintf("GET /posts lists %d more posts than before (%d)", concurrentCreates, before),
			fmt.Sprintf("%d more (%d)", after-before, after))
		got := c.info()
		c.expect(c.last, got.rows("posts") == after, fmt.Sprintf("/info counts %d posts", after), fmt.Sprintf("%d", got.rows("posts")))
	})
})

// serverLimit describes a burst that failed for want of the server's capacity rather than its
// app's correctness: some requests got no HTTP answer at all (the connection refused, reset or
// closed, or nothing within the timeout, most often because the connection waited in a full
// listen backlog), and every answer that did come was a 201. It counts each kind.
func serverLimit(exchanges []*exchange) (string, bool) {
	var answered, refused, reset, backlog, unanswered int
	var example string
	for _, ex := range exchanges {
		switch err := ex.Err; {
		case err == nil && ex.Status == 201:
			answered++
			continue
		case err == nil:
			return "", false // an app's answer, judged as such by the checks that follow
		case errors.Is(err, syscall.ECONNREFUSED):
			refused++
		case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			reset++
		case !ex.Connected:
			backlog++
		default:
			unanswered++
		}
		if example == "" {
			example = ex.Err.Error()
		}
	}
	if answered == len(exchanges) {
		return "", false
	}
	kinds := []string{fmt.Sprintf("%d answered 201", answered)}
	for _, k := range []struct {
		n    int
		what string
	}{
		{refused, "refused"},
		{reset, "reset or closed unanswered"},
		{backlog, fmt.Sprintf("not accepted within %s (left in a full listen backlog)", requestTimeout)},
		{unanswered, fmt.Sprintf("accepted but unanswered within %s (waiting in the backlog or for a free worker)", requestTimeout)},
	} {
		if k.n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", k.n, k.what))
		}
	}
	return fmt.Sprintf("server limit, not an app failure: of %d simultaneous connections %s; first error: %s",
		len(exchanges), strings.Join(kinds, ", "), example), true
}

func firstDifference(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) == len(b) {
		return -1
	}
	return min(len(a), len(b))
}
