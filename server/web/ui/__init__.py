"""The htmx pages: login, tasker labeling, owner projects, dashboards and review.

Every page but login takes `user` from the session cookie (a missing one redirects to
/login); roles are checked by the same `server.core.access` calls the JSON API makes.
"""

from litestar import Router
from litestar.di import Provide

from server.web.auth import page_user
from server.web.ui import home, labeling, projects, review, session, tasks, upload

router = Router(
    path="/",
    route_handlers=[
        session.login_form, session.login, session.logout,
        home.home,
        labeling.label_page, labeling.next_task, labeling.submit, labeling.skip,
        projects.new_project, projects.create_project, projects.dashboard, projects.send_batch, projects.download,
        upload.upload_form, upload.detect, upload.confirm,
        tasks.task_table,
        review.review_page, review.decide,
    ],
    dependencies={"user": Provide(page_user, sync_to_thread=False)},
    include_in_schema=False,
)
