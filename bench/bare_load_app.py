"""The yardstick for bench/load.py: a bare Flask GET endpoint, no database, no Redis."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare() -> tuple:
    """Answer a small JSON object, nothing else."""
    return jsonify({"ok": True}), 200
