"""The staff API: sign-in (`auth`, `session`), reports and the queue (`reports`), accounts
and the city's configuration (`admin`), notification deliveries (`deliveries`), and the
JSON views they answer with (`presenters`)."""
