"""The yardstick for the intake and read-path benchmarks: a bare Flask JSON endpoint, no
database."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def bare_get() -> tuple:
    """A small JSON object, nothing else (the read path's yardstick)."""
    return jsonify({"ok": True, "service": "bare"}), 200


@app.post("/api/v1/reports")
def bare() -> tuple:
    """Parse the JSON body and answer 201, nothing else."""
    data = request.get_json()
    return jsonify({"ok": True, "fields": len(data)}), 201
