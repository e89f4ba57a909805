from django.db import models


class Post(models.Model):
    title = models.TextField()
    content = models.TextField()

    class Meta:
        # The same table names in the Flask, Django and FastAPI apps, so /info reads alike.
        db_table = "posts"
        ordering = ["id"]

    def as_json(self):
        return {"id": self.id, "title": self.title, "content": self.content}


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    content = models.TextField()

    class Meta:
        db_table = "comments"
        ordering = ["id"]

    def as_json(self):
        return {"id": self.id, "post_id": self.post_id, "content": self.content}
