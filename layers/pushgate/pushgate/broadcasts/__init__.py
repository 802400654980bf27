"""Broadcasts: one message to every device of an app, fanned out a page of devices at a time
by a worker of its own, under the app's daily quota, one broadcast per app at a time."""
