"""The app's extension objects: created once here, bound to the app in `create_app` (Flask-Migrate
in `lms.cli`). The database's `db` lives with its base and session in `lms.core.db`."""

from flask_caching import Cache
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from lms.core.api import Api
from lms.core.db import SESSION_OPTIONS, db  # noqa: F401 - importable from here with the others
from lms.core.security_headers import Talisman

jwt = JWTManager()
cache = Cache()
cors = CORS()
talisman = Talisman()
api = Api()
limiter = Limiter(key_func=get_remote_address)
