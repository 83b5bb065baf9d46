"""HTTP handlers: load with a schema, call one service, dump with a schema."""
