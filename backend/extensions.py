"""Flask extensions, created once and bound to the app in `create_app`."""

from flask_sqlalchemy import SQLAlchemy

from backend.models import Base

# Objects stay readable after commit: handlers dump what the service just stored without a
# second round trip to the database.
db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})
