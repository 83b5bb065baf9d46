"""Photos: validation, rendering of derivatives, storage."""
