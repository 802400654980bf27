"""What the console reads at start: where to sign in and where the API is."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConsoleConfigResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    issuer: str = Field(description="The OpenID Connect issuer to sign in with (empty: none)")
    client_id: str = Field(description="The console's public client id at the issuer")
    api_base: str = Field(description="The API's URL, no trailing slash")
    redirect_uri: str = Field(description="Where the issuer sends the browser back: {api}/console/")
    managed_ntfy: bool = Field(description="Whether users can have private ntfy channels here")
    web_client: bool = Field(
        description="Whether the web client (clients/web/) is packaged: /console/lib/pushgate.js"
    )
