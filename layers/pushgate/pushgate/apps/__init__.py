"""Per-app push configuration: VAPID keys, webhook, quota."""
