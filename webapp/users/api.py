"""``/api/v3/users``: admin user management (lists and errors as in docs/architecture.md)."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from webapp.api.inputs import parse_body, parse_query
from webapp.api.pagination import decode_cursor, page, row_id
from webapp.extensions import db
from webapp.security import require_role
from webapp.users import service
from webapp.users.invites import create_or_invite
from webapp.users.models import User
from webapp.users.schemas import LockBody, UserCreateBody, UserListQuery, UserPatchBody

bp = Blueprint("users_api", __name__, url_prefix="/users")


def one(user: User):
    return jsonify({"user": service.to_dict(user)})


@bp.get("")
@require_role("admin")
def list_users():
    query = parse_query(UserListQuery)
    select_users = service.users_query(status=query.status, role=query.role, q=query.q)
    if query.cursor:
        (after_id,) = decode_cursor(query.cursor, (row_id,))
        select_users = select_users.where(User.id > after_id)
    rows = db.session.scalars(select_users.limit(query.limit + 1)).all()
    return jsonify(page(rows, query.limit, lambda user: [user.id], service.to_dict))


@bp.post("")
@require_role("admin")
def create_user():
    body = parse_body(UserCreateBody)
    return jsonify({"user": service.to_dict(create_or_invite(current_user, body))}), 201


@bp.get("/<int:user_id>")
@require_role("admin")
def get_user(user_id: int):
    return one(service.get_user(user_id))


@bp.patch("/<int:user_id>")
@require_role("admin")
def update_user(user_id: int):
    body = parse_body(UserPatchBody)
    user = service.get_user(user_id)
    service.update_user(current_user, user, name=body.name, role=body.role, status=body.status)
    return one(user)


@bp.post("/<int:user_id>/lock")
@require_role("admin")
def lock_user(user_id: int):
    body = parse_body(LockBody)
    user = service.get_user(user_id)
    service.lock(current_user, user, body.minutes, body.reason)
    return one(user)


@bp.post("/<int:user_id>/unlock")
@require_role("admin")
def unlock_user(user_id: int):
    user = service.get_user(user_id)
    service.unlock(current_user, user)
    return one(user)


@bp.post("/<int:user_id>/revoke-sessions")
@require_role("admin")
def revoke_user_sessions(user_id: int):
    user = service.get_user(user_id)
    return jsonify({"revoked": service.revoke_sessions(current_user, user)})
