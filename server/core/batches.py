"""Batches: sending imported items out to taskers, as a calibration or a production batch."""

from __future__ import annotations

import msgspec

from server.core import events
from server.db import write_transaction
from server.errors import Conflict, Invalid
from server.models import BATCH_KINDS, Batch, Project, Task, now


class BatchRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: str = "production"
    size: int | None = None            # take this many unbatched items, oldest first
    item_ids: list[int] | None = None  # or exactly these tasks (by id)
    ext_ids: list[str] | None = None   # or exactly these tasks (by external id)
    name: str = ""
    priority: int = 0                  # higher batches are served first


def production_locked(project: Project) -> str | None:
    """Why production is locked (what is missing), or None when it is open."""
    if not project.require_calibration:
        return None
    rounds = list(Batch.select().where(Batch.project == project.id, Batch.kind == "calibration")
                  .order_by(Batch.id.desc()))
    if any(r.passed for r in rounds):
        return None
    skip = ("; a project that needs no calibration is created with \"require_calibration\": false")
    if not rounds:
        return "production is locked until a calibration batch passes: run a calibration round first" + skip
    last = rounds[0]
    if last.status != "audited":
        return (f"production is locked until a calibration batch passes: round {last.id} is not fully "
                f"audited yet" + skip)
    return (f"production is locked until a calibration batch passes: round {last.id} scored {last.score:.2f}, "
            f"below the bar of {project.calibration_bar:.2f}; improve the guidelines and run another round" + skip)


def create(project: Project, request: BatchRequest, actor: int | None) -> Batch:
    if request.kind not in BATCH_KINDS:
        raise Invalid(f"kind must be one of {', '.join(BATCH_KINDS)}", field="kind")
    chosen = [x for x in (request.size, request.item_ids, request.ext_ids) if x is not None]
    if len(chosen) > 1:
        raise Invalid("give one of size, item_ids or ext_ids", field="size")
    if request.size is not None and request.size <= 0:
        raise Invalid("size must be positive", field="size")
    if request.kind == "production" and (reason := production_locked(project)):
        raise Conflict(reason, field="kind")
    with write_transaction():
        pool = Task.select(Task.id).where(Task.project == project, Task.status == "unbatched", Task.kind == "live")
        if request.item_ids is not None:
            pool = pool.where(Task.id.in_(request.item_ids))
            _all_found(project, Task.id, request.item_ids, pool, "item_ids")
        elif request.ext_ids is not None:
            pool = pool.where(Task.ext_id.in_(request.ext_ids))
            _all_found(project, Task.ext_id, request.ext_ids, pool, "ext_ids")
        else:
            pool = pool.order_by(Task.id)
            if request.size is not None:
                pool = pool.limit(request.size)
        batch = Batch.create(project=project, kind=request.kind, name=request.name, priority=request.priority)
        size = (Task.update(batch=batch, status="queued", open_slots=project.overlap, claimable=1,
                            queue_rank=-request.priority, updated_at=now())
                .where(Task.id.in_(pool)).execute())
        if size == 0:
            raise Invalid("no unbatched items to put in the batch; import items first", field="size")
        batch.size = size
        batch.save()
        events.record("batch.created", actor=actor, project=project.id, batch=batch.id, kind=batch.kind, size=size)
    return batch


def _all_found(project: Project, column, wanted: list, pool, field_name: str) -> None:
    found = {row[0] for row in pool.select(column).tuples()}
    missing = [w for w in wanted if w not in found]
    if missing:
        raise Invalid(f"{len(missing)} of the items are not unbatched items of this project: "
                      f"{', '.join(map(str, missing[:10]))}", field=field_name)
