"""Extension objects: created once here, bound to the app in `create_app` (Flask-Migrate in `lms.cli`)."""

from flask_caching import Cache
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy

from lms.core.api import Api
from lms.core.db import Base, Session
from lms.core.security_headers import Talisman

# Objects stay loaded after a commit: a request commits, then serialises what it wrote; expiring
# them would reload every one of them in a second transaction.
SESSION_OPTIONS = {"class_": Session, "expire_on_commit": False}
db = SQLAlchemy(model_class=Base, session_options=SESSION_OPTIONS)
jwt = JWTManager()
cache = Cache()
cors = CORS()
talisman = Talisman()
api = Api()
limiter = Limiter(key_func=get_remote_address)
