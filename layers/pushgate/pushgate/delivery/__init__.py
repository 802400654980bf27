"""Delivery: one job per (notification, user) fanned out to every device concurrently."""
