"""The Piccolo app: every table of the registry and the folder of its migrations."""

import os

from piccolo.conf.apps import AppConfig

from registry.ambiti.tables import Ambito, Comune
from registry.holders.tables import Holder
from registry.resources.tables import AvailabilityWindow, Resource
from registry.taxonomy.tables import TaxonomyTerm
from registry.users.tables import User

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Ambito, Comune, TaxonomyTerm, Holder, User, Resource, AvailabilityWindow],
    migration_dependencies=[],
    commands=[],
)
