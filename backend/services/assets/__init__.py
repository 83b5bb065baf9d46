"""Asset registers (issue 18): layers of traffic signals, sign posts … that reports can point
at. `readers` parses files, `importer` writes a layer in one transaction, `queries` finds
assets (nearest, in a viewport, by number), `demo` loads the demo city's layer at `init`."""
