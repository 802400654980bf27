"""pushgate's shared layer: auth, crypto, models, storage, providers and webhooks."""
