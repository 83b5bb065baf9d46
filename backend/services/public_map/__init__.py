"""The public map zoomed out: reports aggregated into grid cells (server-side clusters), from a
per-process index of every report's position and status that follows the stored public views
(`report_public.revision`), so a change shows in the next answer."""
