"""The public map from a per-process index of every report's position, status and category
(kept exact by following `report_change`): pages of the newest reports in a box, and grid
clusters zoomed out; the rendered features come from `report_public` and stay cached in the
process until their report changes."""
