"""A second yardstick for bench/intake.py: the cheapest durable write a Flask endpoint can do.

Parse the JSON body, INSERT it as one row with plain psycopg, COMMIT (fsync), answer 201.
It shows how much of the gap to the bare endpoint any handler that stores data must pay.
"""

import os

import psycopg
from flask import Flask, jsonify, request

from tests.servers import libpq_url

app = Flask(__name__)
_conn: psycopg.Connection | None = None


def connection() -> psycopg.Connection:
    """One connection per worker process, opened on first use (after gunicorn's fork)."""
    global _conn
    if _conn is None:
        _conn = psycopg.connect(libpq_url(os.environ["MM_DATABASE_URL"]))
    return _conn


@app.post("/api/v1/reports")
def durable_insert() -> tuple:
    """Store the body durably and answer 201."""
    conn = connection()
    row = conn.execute(
        "INSERT INTO bench_durable_insert (body) VALUES (%s) RETURNING id",
        (request.get_data(as_text=True),),
    ).fetchone()
    conn.commit()
    return jsonify({"id": row[0]}), 201
