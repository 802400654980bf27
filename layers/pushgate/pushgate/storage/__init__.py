"""Data access: the one place that knows each table (PynamoDB `*Record` models)."""
