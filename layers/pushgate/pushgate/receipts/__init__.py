"""Delivery receipts to tenant webhooks: Standard Webhooks signatures, retries, SSRF safety."""
