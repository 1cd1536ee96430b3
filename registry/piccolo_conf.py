"""Piccolo configuration, used by its migration machinery (PICCOLO_CONF=registry.piccolo_conf)."""

from piccolo.conf.apps import AppRegistry

from registry import db as _db
from registry.config import load_settings

# The running service binds its engine first; the piccolo CLI falls back to the environment.
DB = _db._engine or _db.make_engine(load_settings())

APP_REGISTRY = AppRegistry(apps=["registry.piccolo_app"])
