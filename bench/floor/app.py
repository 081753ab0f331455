"""The floors of `make bench`: the least a bare Flask app under the same gunicorn can do per request.

    GET /static  static JSON                                     (bounds W1)
    GET /db      one `SELECT 1` on a pooled SQLAlchemy connection (bounds W4, W6, W7)
    GET /redis   one Redis GET of a ~1 KB JSON value              (bounds W2, W3)

FLOOR_DATABASE_URL and FLOOR_REDIS_URL say where; bench/run.py serves it with
`gunicorn -c bench/floor/gunicorn.conf.py app:app`. The pool has the app's default size (5, and 5
overflow) and no pre-ping, like the app's.
"""

import json
import os

import redis
from flask import Flask, Response
from sqlalchemy import create_engine, text

CACHED_KEY = "floor:cached-json"
CACHED_VALUE = json.dumps({
    "id": "00000000-0000-0000-0000-000000000000",
    "title": "Floor course",
    "description": "x" * 900,
    "is_published": True,
})
STATIC_BODY = json.dumps({"status": "ok"})
SELECT_1 = text("SELECT 1")

app = Flask(__name__)
engine = create_engine(os.environ["FLOOR_DATABASE_URL"], pool_size=5, max_overflow=5, pool_pre_ping=False)
cache = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
cache.set(CACHED_KEY, CACHED_VALUE)


@app.get("/static")
def static_json():
    return Response(STATIC_BODY, mimetype="application/json")


@app.get("/db")
def select_one():
    with engine.connect() as connection:
        value = connection.execute(SELECT_1).scalar()
    return Response(json.dumps({"value": value}), mimetype="application/json")


@app.get("/redis")
def cached_json():
    return Response(cache.get(CACHED_KEY), mimetype="application/json")
