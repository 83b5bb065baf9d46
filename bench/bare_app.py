"""The yardstick for bench/intake.py: a bare Flask JSON endpoint, no database."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/reports")
def bare() -> tuple:
    """Parse the JSON body and answer 201, nothing else."""
    data = request.get_json()
    return jsonify({"ok": True, "fields": len(data)}), 201
