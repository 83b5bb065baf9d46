"""Photos safe to publish: which photos the public may see (`visibility`), and the redaction
step of the photo pipeline (`pipeline`). The detectors themselves are media code:
`backend.media.redaction`."""
