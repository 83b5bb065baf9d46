"""Public views of reports, rendered once per change instead of once per read.

`render` turns a report's public data into JSON fragments (a map feature, the report page, an
Open311 request) with markers where the city's configuration or the deployment decides the
text; `store` keeps the `report_public` table (rendered at commit by the write services,
dropped by database triggers on every change); `read` hands fragments to the handlers (rendering
missing ones on the spot); `markers` expands a fragment for one language and base URL.
"""
