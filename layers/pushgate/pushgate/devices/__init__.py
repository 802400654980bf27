"""The device registry: push addresses, encrypted at rest, deduplicated per app."""
