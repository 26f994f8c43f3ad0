"""The JSON API under /api/v1: bearer-token auth, msgspec Structs in and out."""

from litestar import Router
from litestar.di import Provide

from server.web.api import account, catalog, labeling, projects, quality, quality_lab, tasks
from server.web.auth import api_user

router = Router(
    path="/api/v1",
    route_handlers=[account.login, account.AccountController, projects.ProjectController,
                    labeling.LabelingController, tasks.TaskController, quality.QualityController,
                    catalog.CatalogController, quality_lab.QualityLabController],
    dependencies={"user": Provide(api_user, sync_to_thread=False)},
    tags=["api"],
)
