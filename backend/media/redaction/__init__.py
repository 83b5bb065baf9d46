"""Faces and licence plates made unrecognisable before a photo is published.

`regions` says what is hidden (relative boxes, so one list fits every size of a photo),
`faces` and `plates` find them (models that come inside installed packages: nothing is
downloaded at run time), `blur` hides them, and `detect` runs both detectors on the image
that becomes public. See docs/adr/0016-photo-redaction.md.
"""
