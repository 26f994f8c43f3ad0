"""API: one task in full (responses, verdicts, reviews) and the review decision."""

from __future__ import annotations

from litestar import Controller, get, post

from server.core import access, review, tasks


class TaskController(Controller):
    path = "/tasks"

    @get("/{task_id:int}", sync_to_thread=True, summary="A task with its responses, judge verdicts and reviews")
    def get_task(self, task_id: int, user: int) -> tasks.TaskDetail:
        task, project = access.task_for(user, task_id, "reviewer")
        return tasks.detail(task, project)

    @post("/{task_id:int}/review", sync_to_thread=True, status_code=200,
          summary="Accept, fix (with the corrected response) or reject (with a reason) a task Ready for Review")
    def review_task(self, task_id: int, data: review.ReviewRequest, user: int) -> tasks.TaskDetail:
        task, project = access.task_for(user, task_id, "reviewer")
        review.review(task.id, user, data)
        task, project = access.task_for(user, task_id, "reviewer")
        return tasks.detail(task, project)
