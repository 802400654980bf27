"""Gateway clients (the takos protocol): other server instances register tokens and post
events with ES256-signed requests, their keys published at
`https://{domain}/.well-known/takos-push.json`; operators enrol them as instances."""
