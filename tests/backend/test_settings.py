"""Settings never show their secrets, so no log line or traceback can carry them."""

from __future__ import annotations

from backend.settings import Settings


def test_secrets_and_url_passwords_are_hidden_in_repr() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://mm:db-pass-123@db/mm",
        redis_url="redis://:redis-pass-456@redis:6379/0", secret_key="signing-key-789",
        smtp_password="smtp-pass-000", s3_secret_key="s3-secret-111",
        metrics_token="metrics-222")
    shown = repr(settings)
    for secret in ("db-pass-123", "redis-pass-456", "signing-key-789", "smtp-pass-000",
                   "s3-secret-111", "metrics-222"):
        assert secret not in shown, secret
    assert "postgresql+psycopg://mm:[redacted]@db/mm" in shown
    assert "secret_key='[redacted]'" in shown and "base_url='http://127.0.0.1:8000'" in shown
    assert settings.secret_key == "signing-key-789"  # only the display changes


def test_the_readme_lists_every_setting_with_its_description() -> None:
    from backend.settings import PROJECT_ROOT, describe_settings

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for name, _default, doc in describe_settings():
        assert f"| `{name}` |" in readme and doc in readme, name
