"""Decisions function: a tap on an approval's button. No bearer token: the decision URL's
token is the capability (bound to the approval, the device and the action)."""

from __future__ import annotations

from pushgate.api import create_handler, create_resolver, error_responses
from pushgate.approvals import service
from pushgate.approvals.models import ApprovalStatusResponse
from pushgate.params import ApprovalIdPath, DecisionTokenPath

app = create_resolver(authenticated=False)


@app.post(
    "/push/approvals/<approval_id>/decisions/<token>",
    summary="Take the decision a decision URL stands for (what an approval's buttons POST)",
    description="No credentials: the URL is the capability. Any body is ignored. The first "
    "decision wins; the same decision again answers 200 as recorded; another after it is "
    "409 `already_decided`; after expiry 410 `approval_expired`; a token that is not this "
    "approval's is 404.",
    responses={
        200: {
            "description": "The decision, as recorded",
            "content": {"application/json": {"model": ApprovalStatusResponse}},
        },
        **error_responses(404, 409, 410, 429),
    },
)
def take_decision(approval_id: ApprovalIdPath, token: DecisionTokenPath) -> ApprovalStatusResponse:
    return service.decide(approval_id, token)


lambda_handler = create_handler(app, takes_body=False)
