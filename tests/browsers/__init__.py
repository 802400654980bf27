"""Real browsers for the web client's tests: Firefox ESR driven over Marionette, and the
small site (a test page, the two client files, a recorder for the worker's reports) it loads."""
