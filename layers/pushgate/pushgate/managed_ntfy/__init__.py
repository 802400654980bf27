"""Managed private ntfy channels: for one user of one app, an ntfy account and a random topic
only that account may read and only pushgate may publish to, made and removed through the ntfy
server's own admin API."""
