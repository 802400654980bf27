"""Interactions: a device reports that it showed a notification and that the user tapped it,
through a URL in the push that is its own capability; the first report of each wins."""
