"""Database engine, session and spatial SQL helpers shared by web, CLI and workers."""
