"""Pure geographic code: CRS handling, district layers, district lookup."""
