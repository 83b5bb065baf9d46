"""Background jobs (rq): they take ids and plain values and call the same services as the API."""
