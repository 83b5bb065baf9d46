"""The service desk: reports filed by staff on behalf of a caller (phone, counter)."""
