"""The htmx pages: login, tasker labeling, owner projects and their setup steps, dashboards, review, agreement,
and the quality lab (calibration rounds and their audit, quality tasks, rules, taskers, a tasker's own standing).

Every page but login takes `user` from the session cookie (a missing one redirects to
/login); roles are checked by the same `server.core.access` calls the JSON API makes.
"""

from litestar import Router
from litestar.di import Provide

from server.web.auth import page_user
from server.web.ui import (agreement, audit, criteria, describe, entities, guidelines, home, judge_runs, judges,
                           labeling, launch, my_standing, preview, pricing, projects, quality, quality_task, review,
                           rules, selfcheck, session, tasker_table, tasks, upload)

router = Router(
    path="/",
    route_handlers=[
        session.login_form, session.login, session.logout,
        home.home,
        labeling.label_page, labeling.next_task, labeling.submit, labeling.skip,
        projects.new_project, projects.create_project, projects.dashboard, projects.send_batch, projects.download,
        upload.upload_form, upload.detect, upload.confirm,
        describe.describe_page, describe.save_description,
        entities.entities_page, entities.save_mapping,
        criteria.criteria_page, criteria.save_criteria, criteria.blank_row,
        judges.judges_page, judges.save_judges,
        preview.preview_page,
        guidelines.guidelines_page, guidelines.save_guidelines, guidelines.preview_guidelines,
        selfcheck.self_check_page, selfcheck.answer, selfcheck.result,
        pricing.price_page, pricing.estimate_fragment, pricing.save_price,
        launch.launch_page, launch.launch,
        tasks.task_table,
        review.review_page, review.decide,
        judge_runs.judge_run,
        agreement.agreement_page, agreement.rejudge_version,
        quality.quality_page, quality.start_round,
        audit.audit_page, audit.grade,
        quality_task.quality_task_form, quality_task.make_quality_task,
        rules.rules_page, rules.save_rules,
        tasker_table.tasker_table, tasker_table.act,
        my_standing.standing_page,
    ],
    dependencies={"user": Provide(page_user, sync_to_thread=False)},
    include_in_schema=False,
)
