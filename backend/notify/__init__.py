"""Reporter notification channels: Web Push and e-mail, and their texts."""
