package contract

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
)

// rejected is a request the API must refuse with a status.
type rejected struct {
	method, path string
	body         any
}

// expectRejected sends each request, checks it is refused with the status and a JSON error, and
// that neither the number of posts and comments nor the post and comment it may target changed.
func (c *client) expectRejected(status int, target post, targetComment comment, requests ...rejected) {
	GinkgoHelper()
	postsBefore, commentsBefore := len(c.listPosts()), len(c.listComments(""))
	for _, r := range requests {
		c.apiError(c.send(r.method, r.path, r.body), status)
	}
	posts, comments := c.listPosts(), c.listComments("")
	c.expect(c.last, len(posts) == postsBefore && len(comments) == commentsBefore,
		fmt.Sprintf("no rows added or removed: %d posts, %d comments", postsBefore, commentsBefore),
		fmt.Sprintf("%d posts, %d comments", len(posts), len(comments)))
	var gotPost post
	ex := c.send("GET", fmt.Sprintf("/posts/%d", target.ID), nil)
	c.statusJSON(ex, 200, &gotPost)
	c.expectPost(ex, gotPost, target)
	var gotComment comment
	ex = c.send("GET", fmt.Sprintf("/comments/%d", targetComment.ID), nil)
	c.statusJSON(ex, 200, &gotComment)
	c.expect(ex, gotComment == targetComment, fmt.Sprintf("%+v unchanged", targetComment), fmt.Sprintf("%+v", gotComment))
}

// targets creates the post and comment an error step aims its PUTs at, which must come out unchanged.
func (c *client) targets() (post, comment, string, string) {
	GinkgoHelper()
	p := c.createPost(unique("error target"), "must not change")
	cm := c.createComment(p.ID, "must not change either")
	return p, cm, fmt.Sprintf("/posts/%d", p.ID), fmt.Sprintf("/comments/%d", cm.ID)
}

var _ = nodes.Describe("errors", func() {
	step("errors.invalid-json", func(c *client) {
		target, targetComment, postPath, commentPath := c.targets()
		c.expectRejected(400, target, targetComment,
			rejected{"POST", "/posts", []byte(`{"title": "unterminated", `)},
			rejected{"POST", "/posts", []byte(`title=form&content=encoded`)},
			rejected{"PUT", postPath, []byte(`{"title": 'single quotes', "content": "x"}`)},
			rejected{"POST", "/comments", []byte(`{"post_id": 1, "content": "x"`)},
			rejected{"PUT", commentPath, []byte(`not json at all`)},
		)
	})

	step("errors.missing-field", func(c *client) {
		target, targetComment, postPath, commentPath := c.targets()
		c.expectRejected(422, target, targetComment,
			rejected{"POST", "/posts", map[string]any{"title": "no content"}},
			rejected{"POST", "/posts", map[string]any{"content": "no title"}},
			rejected{"POST", "/posts", map[string]any{}},
			rejected{"PUT", postPath, map[string]any{"title": "no content"}},
			rejected{"POST", "/comments", map[string]any{"post_id": target.ID}},
			rejected{"POST", "/comments", map[string]any{"content": "no post"}},
			rejected{"PUT", commentPath, map[string]any{"content": "no post"}},
		)
	})

	step("errors.wrong-type", func(c *client) {
		target, targetComment, postPath, commentPath := c.targets()
		c.expectRejected(422, target, targetComment,
			rejected{"POST", "/posts", map[string]any{"title": 123, "content": "number title"}},
			rejected{"POST", "/posts", map[string]any{"title": "list content", "content": []string{"a"}}},
			rejected{"POST", "/posts", map[string]any{"title": nil, "content": "null title"}},
			rejected{"PUT", postPath, map[string]any{"title": true, "content": "bool title"}},
			rejected{"POST", "/comments", map[string]any{"post_id": fmt.Sprint(target.ID), "content": "post_id as a string"}},
			rejected{"POST", "/comments", map[string]any{"post_id": true, "content": "post_id as a bool"}},
			rejected{"POST", "/comments", map[string]any{"post_id": float64(target.ID) + 0.5, "content": "post_id as a fraction"}},
			rejected{"PUT", commentPath, map[string]any{"post_id": target.ID, "content": 42}},
		)
	})

	step("errors.unknown-post", func(c *client) {
		target, targetComment, _, commentPath := c.targets()
		missing := unusedID(c.listPosts(), postID)
		c.expectRejected(422, target, targetComment,
			rejected{"POST", "/comments", map[string]any{"post_id": missing, "content": "orphan"}},
			rejected{"PUT", commentPath, map[string]any{"post_id": missing, "content": "moved nowhere"}},
		)
	})
})
