"""Clients for pushgate that run outside it (for operators of gateway instances)."""
