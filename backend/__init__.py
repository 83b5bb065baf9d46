"""Mängelmelder: the Flask API, its services and models."""
