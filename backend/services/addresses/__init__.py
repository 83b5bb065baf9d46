"""The address register (imported house addresses) and address search for the map-free path."""
