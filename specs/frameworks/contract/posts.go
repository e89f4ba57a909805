package contract

import (
	"fmt"
	"slices"
)

var _ = nodes.Describe("posts", func() {
	step("posts.create", func(c *client) {
		c.createPost(unique("create"), "first post")
	})

	step("posts.list", func(c *client) {
		a := c.createPost(unique("list a"), "a")
		b := c.createPost(unique("list b"), "b")
		posts := c.listPosts()
		ex := c.last
		c.expect(ex, strictlyIncreasing(ids(posts, postID)), "posts ordered by id, each id once", showIDs(ids(posts, postID)))
		for _, want := range []post{a, b} {
			i := slices.IndexFunc(posts, func(p post) bool { return p.ID == want.ID })
			c.expect(ex, i >= 0, fmt.Sprintf("post %d in the list", want.ID), showIDs(ids(posts, postID)))
			c.expectPost(ex, posts[i], want)
		}
	})

	step("posts.get", func(c *client) {
		want := c.createPost(unique("get"), "read me")
		var got post
		ex := c.send("GET", fmt.Sprintf("/posts/%d", want.ID), nil)
		c.statusJSON(ex, 200, &got)
		c.expectPost(ex, got, want)
	})

	step("posts.update", func(c *client) {
		created := c.createPost(unique("before"), "old content")
		want := post{ID: created.ID, Title: unique("after"), Content: "new content"}
		path := fmt.Sprintf("/posts/%d", created.ID)
		var got post
		ex := c.send("PUT", path, map[string]any{"title": want.Title, "content": want.Content})
		c.statusJSON(ex, 200, &got)
		c.expectPost(ex, got, want)
		ex = c.send("GET", path, nil)
		c.statusJSON(ex, 200, &got)
		c.expectPost(ex, got, want)
	})

	step("posts.delete", func(c *client) {
		p := c.createPost(unique("delete"), "short-lived")
		path := fmt.Sprintf("/posts/%d", p.ID)
		ex := c.send("DELETE", path, nil)
		c.status(ex, 204)
		c.expect(ex, len(ex.Body) == 0, "an empty body", excerpt(ex.Body))
		c.apiError(c.send("GET", path, nil), 404)
		posts := c.listPosts()
		c.expect(c.last, !slices.ContainsFunc(posts, func(q post) bool { return q.ID == p.ID }),
			fmt.Sprintf("post %d no longer listed", p.ID), "it is still listed")
	})

	step("posts.not-found", func(c *client) {
		path := fmt.Sprintf("/posts/%d", unusedID(c.listPosts(), postID))
		c.apiError(c.send("GET", path, nil), 404)
		c.apiError(c.send("PUT", path, map[string]any{"title": "t", "content": "c"}), 404)
		c.apiError(c.send("DELETE", path, nil), 404)
		c.apiError(c.send("GET", "/posts/not-a-number", nil), 404)
	})

	step("posts.cascade-delete", func(c *client) {
		doomed := c.createPost(unique("cascade doomed"), "has comments")
		kept := c.createPost(unique("cascade kept"), "keeps its comment")
		gone := []comment{c.createComment(doomed.ID, "first"), c.createComment(doomed.ID, "second")}
		survivor := c.createComment(kept.ID, "survives")
		c.status(c.send("DELETE", fmt.Sprintf("/posts/%d", doomed.ID), nil), 204)
		for _, cm := range gone {
			c.apiError(c.send("GET", fmt.Sprintf("/comments/%d", cm.ID), nil), 404)
		}
		left := c.listComments(fmt.Sprintf("?post_id=%d", doomed.ID))
		c.expect(c.last, len(left) == 0, fmt.Sprintf("no comments left on post %d", doomed.ID), fmt.Sprintf("%+v", left))
		var got comment
		ex := c.send("GET", fmt.Sprintf("/comments/%d", survivor.ID), nil)
		c.statusJSON(ex, 200, &got)
		c.expect(ex, got == survivor, fmt.Sprintf("%+v", survivor), fmt.Sprintf("%+v", got))
	})
})

func ids[T any](rows []T, id func(T) int64) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}

func strictlyIncreasing(ids []int64) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return false
		}
	}
	return true
}

// showIDs renders a list of ids for a message, trimmed when long.
func showIDs(ids []int64) string {
	return "ids " + excerpt([]byte(fmt.Sprint(ids)))
}
