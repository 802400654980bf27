"""Interactions function: a device reports that it showed a notification, or that its user
tapped it. No bearer token: the interactions URL's token is the capability (bound to the
notification and the device). Called from service workers on the tenant's origin, so the
route answers CORS for any origin, without credentials."""

from __future__ import annotations

from pushgate.api import create_handler, create_resolver, error_responses
from pushgate.interactions import service
from pushgate.interactions.models import InteractionReport, InteractionResponse
from pushgate.params import InteractionTokenPath, NotificationIdPath

app = create_resolver(authenticated=False, any_origin=True)
ROUTE = "/push/notifications/<notification_id>/interactions/<token>"


@app.post(
    ROUTE,
    summary="Report that a device showed a notification, or that its user tapped it",
    description="No credentials: the URL (the push's `interactions` field, FCM's "
    "`interactions_url`) is the capability. The first `displayed` and the first `clicked` "
    "of the device are kept; a `clicked` also records the display if none was; a report "
    "after them answers 200 with what was recorded and changes nothing. A token that is not "
    "this notification's is 404 `interaction_not_found`.",
    responses={
        200: {
            "description": "The device's interactions with the notification, as recorded",
            "content": {"application/json": {"model": InteractionResponse}},
        },
        **error_responses(404, 429),
    },
)
def report_interaction(
    notification_id: NotificationIdPath, token: InteractionTokenPath, report: InteractionReport
) -> InteractionResponse:
    return service.report(notification_id, token, report)


lambda_handler = create_handler(app)
