package contract

import (
	"fmt"
	"slices"
)

var _ = nodes.Describe("comments", func() {
	step("comments.create", func(c *client) {
		p := c.createPost(unique("commented"), "a post to comment on")
		c.createComment(p.ID, "first comment")
	})

	step("comments.list", func(c *client) {
		a := c.createPost(unique("comments list a"), "a")
		b := c.createPost(unique("comments list b"), "b")
		onA := []comment{c.createComment(a.ID, "a1"), c.createComment(a.ID, "a2")}
		onB := c.createComment(b.ID, "b1")

		all := c.listComments("")
		ex := c.last
		c.expect(ex, strictlyIncreasing(ids(all, commentID)), "comments ordered by id, each id once", showIDs(ids(all, commentID)))
		for _, want := range append(onA, onB) {
			i := slices.IndexFunc(all, func(cm comment) bool { return cm.ID == want.ID })
			c.expect(ex, i >= 0 && all[i] == want, fmt.Sprintf("%+v in the list", want), showIDs(ids(all, commentID)))
		}

		filtered := c.listComments(fmt.Sprintf("?post_id=%d", a.ID))
		c.expect(c.last, slices.Equal(filtered, onA), fmt.Sprintf("exactly the comments of post %d: %+v", a.ID, onA), fmt.Sprintf("%+v", filtered))
	})

	step("comments.get", func(c *client) {
		p := c.createPost(unique("comment get"), "p")
		want := c.createComment(p.ID, "read me")
		var got comment
		ex := c.send("GET", fmt.Sprintf("/comments/%d", want.ID), nil)
		c.statusJSON(ex, 200, &got)
		c.expect(ex, got == want, fmt.Sprintf("%+v", want), fmt.Sprintf("%+v", got))
	})

	step("comments.update", func(c *client) {
		from := c.createPost(unique("comment moves from"), "p1")
		to := c.createPost(unique("comment moves to"), "p2")
		created := c.createComment(from.ID, "old")
		want := comment{ID: created.ID, PostID: to.ID, Content: "new"}
		path := fmt.Sprintf("/comments/%d", created.ID)
		var got comment
		ex := c.send("PUT", path, map[string]any{"post_id": to.ID, "content": "new"})
		c.statusJSON(ex, 200, &got)
		c.expect(ex, got == want, fmt.Sprintf("%+v", want), fmt.Sprintf("%+v", got))
		ex = c.send("GET", path, nil)
		c.statusJSON(ex, 200, &got)
		c.expect(ex, got == want, fmt.Sprintf("%+v", want), fmt.Sprintf("%+v", got))
	})

	step("comments.delete", func(c *client) {
		p := c.createPost(unique("comment delete"), "p")
		cm := c.createComment(p.ID, "short-lived")
		path := fmt.Sprintf("/comments/%d", cm.ID)
		ex := c.send("DELETE", path, nil)
		c.status(ex, 204)
		c.expect(ex, len(ex.Body) == 0, "an empty body", excerpt(ex.Body))
		c.apiError(c.send("GET", path, nil), 404)
		left := c.listComments(fmt.Sprintf("?post_id=%d", p.ID))
		c.expect(c.last, len(left) == 0, fmt.Sprintf("no comments left on post %d", p.ID), fmt.Sprintf("%+v", left))
		var still post
		c.statusJSON(c.send("GET", fmt.Sprintf("/posts/%d", p.ID), nil), 200, &still)
	})

	step("comments.not-found", func(c *client) {
		p := c.createPost(unique("comment not found"), "p")
		path := fmt.Sprintf("/comments/%d", unusedID(c.listComments(""), commentID))
		c.apiError(c.send("GET", path, nil), 404)
		c.apiError(c.send("PUT", path, map[string]any{"post_id": p.ID, "content": "c"}), 404)
		c.apiError(c.send("DELETE", path, nil), 404)
		c.apiError(c.send("GET", "/comments/not-a-number", nil), 404)
	})
})
