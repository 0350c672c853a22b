"""Flask extensions, created unbound and initialised in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import has_request_context, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: Named constraints, so migrations can alter them on every backend (SQLite batch mode included).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _render_migration_item(type_: str, obj: object, _context: object) -> str | bool:
    """Write our column types as plain SQLAlchemy types, so migrations never import app code."""
    from app.core.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    #: What the models subclass. At run time it is ``db.Model`` (the declarative base plus
    #: Flask-SQLAlchemy's table naming and binds); mypy cannot follow an instance attribute as a
    #: base class, so it sees the declarative base itself.
    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, render_item=_render_migration_item)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()


def select_locale() -> str:
    """The UI language: the user's explicit choice, else the configured default (German)."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a worker or a command: the city's language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]
