"""City configuration files: the format, and the bundled Munich demo."""
