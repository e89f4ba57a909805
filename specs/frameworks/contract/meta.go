package contract

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
)

type info struct {
	Framework        string      `json:"framework"`
	FrameworkVersion string      `json:"framework_version"`
	Python           string      `json:"python"`
	Tables           []tableRows `json:"tables"`
}

type tableRows struct {
	Name string `json:"name"`
	Rows int    `json:"rows"`
}

func (c *client) info() info {
	GinkgoHelper()
	var got info
	c.statusJSON(c.send("GET", "/info", nil), 200, &got)
	return got
}

// rows is the row count /info gives for a table, or -1 when it does not list it.
func (in info) rows(table string) int {
	i := slices.IndexFunc(in.Tables, func(t tableRows) bool { return t.Name == table })
	if i < 0 {
		return -1
	}
	return in.Tables[i].Rows
}

// expectCounts checks /info against the lengths of the posts and comments lists.
func (c *client) expectCounts(when string) info {
	GinkgoHelper()
	posts, comments := len(c.listPosts()), len(c.listComments(""))
	got := c.info()
	c.expect(c.last, got.rows("posts") == posts && got.rows("comments") == comments,
		fmt.Sprintf("%s: tables posts with %d rows and comments with %d rows (the lengths of GET /posts and GET /comments)", when, posts, comments),
		fmt.Sprintf("posts %d, comments %d (-1: not listed) in %s", got.rows("posts"), got.rows("comments"), excerpt(c.last.Body)))
	return got
}

var _ = nodes.Describe("meta", func() {
	step("interop", func(c *client) {
		var got map[string]any
		ex := c.send("GET", "/interop", nil)
		c.statusJSON(ex, 200, &got)
		c.expect(ex, got["status"] == "ok", `{"status": "ok"}`, excerpt(ex.Body))
	})

	step("info", func(c *client) {
		got := c.info()
		ex := c.last
		if env.Framework != "" {
			c.expect(ex, got.Framework == env.Framework, fmt.Sprintf("framework %q", env.Framework), fmt.Sprintf("framework %q", got.Framework))
		}
		c.expect(ex, got.Framework != "" && got.FrameworkVersion != "", "framework and framework_version set",
			fmt.Sprintf("framework %q, framework_version %q", got.Framework, got.FrameworkVersion))
		c.expect(ex, strings.HasPrefix(got.Python, "3."), "python: a Python 3 version", fmt.Sprintf("python %q", got.Python))
		c.expect(ex, len(got.Tables) >= 2 && len(got.Tables) <= 10, "between 2 and 10 tables", fmt.Sprintf("%d tables", len(got.Tables)))
		c.expect(ex, slices.IsSortedFunc(got.Tables, func(a, b tableRows) int { return b.Rows - a.Rows }),
			"tables ordered by rows, largest first", fmt.Sprintf("%+v", got.Tables))
		c.expect(ex, got.rows("posts") >= 0 && got.rows("comments") >= 0, "tables posts and comments listed", fmt.Sprintf("%+v", got.Tables))
	})

	step("info.counts", func(c *client) {
		before := c.expectCounts("before")
		a := c.createPost(unique("counted a"), "a")
		b := c.createPost(unique("counted b"), "b")
		c.createComment(a.ID, "a1")
		c.createComment(a.ID, "a2")
		c.createComment(b.ID, "b1")
		after := c.expectCounts("after 2 posts and 3 comments were created")
		c.expect(c.last, after.rows("posts")-before.rows("posts") == 2 && after.rows("comments")-before.rows("comments") == 3,
			"2 more posts and 3 more comments than before",
			fmt.Sprintf("%+d posts and %+d comments", after.rows("posts")-before.rows("posts"), after.rows("comments")-before.rows("comments")))
		c.status(c.send("DELETE", fmt.Sprintf("/posts/%d", a.ID), nil), 204)
		afterDelete := c.expectCounts("after a post with 2 comments was deleted")
		c.expect(c.last, afterDelete.rows("posts")-before.rows("posts") == 1 && afterDelete.rows("comments")-before.rows("comments") == 1,
			"1 more post and 1 more comment than before",
			fmt.Sprintf("%+d posts and %+d comments", afterDelete.rows("posts")-before.rows("posts"), afterDelete.rows("comments")-before.rows("comments")))
	})
})
