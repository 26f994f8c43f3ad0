"""Users, spaces, memberships and bearer tokens: who someone is and what role they hold where."""

from __future__ import annotations

import hashlib
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.db import database, execute
from server.errors import Forbidden, Invalid, NotFound, Unauthorized
from server.models import ROLES, ApiToken, Membership, Space, User

DEFAULT_SPACE = "Default"
_hasher = PasswordHasher()   # argon2id: memory-hard
_token_cache: dict[str, tuple[int, float, float]] = {}   # sha256 -> (user id, expires, cached at)
TOKEN_CACHE_SECONDS = 30.0


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def default_space() -> Space:
    space, _ = Space.get_or_create(name=DEFAULT_SPACE)
    return space


def create_user(username: str, password: str, role: str, space: Space | None = None) -> tuple[User, bool]:
    """Create the user (or update their password and role): running it twice changes nothing."""
    username = username.strip()
    if not username:
        raise Invalid("username must not be empty", field="username")
    if len(password) < 4:
        raise Invalid("password must have at least 4 characters", field="password")
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role")
    with database.atomic():
        space = space or default_space()
        user = User.get_or_none(User.username == username)
        created = user is None
        if created:
            user = User.create(username=username, password_hash=hash_password(password))
        elif not _verify(user.password_hash, password):
            user.password_hash = hash_password(password)
            user.save()
        membership = Membership.get_or_none(space=space, user=user)
        if membership is None:
            Membership.create(space=space, user=user, role=role)
        elif membership.role != role:
            membership.role = role
            membership.save()
    return user, created


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(username: str, password: str) -> User:
    user = User.get_or_none(User.username == username.strip())
    if user is None or not user.is_active or not _verify(user.password_hash, password):
        raise Unauthorized("wrong username or password")
    return user


def issue_token(user: User, days: int = 30) -> str:
    token = secrets.token_urlsafe(32)
    ApiToken.create(user=user, token_hash=_digest(token), expires_at=time.time() + days * 86400)
    return token


def user_for_token(token: str) -> int:
    """The user id a bearer token belongs to; cached briefly so the hot path skips a query."""
    digest = _digest(token)
    now = time.time()
    cached = _token_cache.get(digest)
    if cached and cached[1] > now and now - cached[2] < TOKEN_CACHE_SECONDS:
        return cached[0]
    row = (ApiToken.select(ApiToken.user, ApiToken.expires_at, User.is_active)
           .join(User).where(ApiToken.token_hash == digest).tuples().first())
    if row is None or row[1] <= now or not row[2]:
        _token_cache.pop(digest, None)
        raise Unauthorized("invalid or expired token")
    _token_cache[digest] = (row[0], row[1], now)
    return row[0]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def roles_of(user_id: int) -> dict[int, str]:
    """Space id -> role for this user."""
    return dict(Membership.select(Membership.space, Membership.role)
                .where(Membership.user == user_id).tuples())


def role_in(user_id: int, space_id: int) -> str | None:
    row = execute("SELECT role FROM membership WHERE user_id = ? AND space_id = ?", (user_id, space_id)).fetchone()
    return row[0] if row else None


RANK = {"tasker": 1, "reviewer": 2, "owner": 3}


def require_role(user_id: int, space_id: int, at_least: str) -> str:
    """The user's role in the space, if it is `at_least` this one; otherwise Forbidden."""
    role = role_in(user_id, space_id)
    if role is None or RANK[role] < RANK[at_least]:
        raise Forbidden(f"this needs the {at_least} role in the project's space")
    return role


def space_for_new_project(user_id: int, space_id: int | None) -> Space:
    """The named space, or the one space the user owns (the Default space when they own several)."""
    if space_id is not None:
        space = Space.get_or_none(Space.id == space_id)
        if space is None or role_in(user_id, space.id) is None:
            raise NotFound(f"space {space_id} not found", field="space_id")
        require_role(user_id, space.id, "owner")
        return space
    owned = [s for s, role in roles_of(user_id).items() if role == "owner"]
    if not owned:
        raise Forbidden("creating a project needs the owner role in a space")
    default = default_space()
    if default.id in owned:
        return default
    if len(owned) == 1:
        return Space.get_by_id(owned[0])
    raise Invalid(f"you own several spaces; name one with space_id ({', '.join(map(str, owned))})", field="space_id")
