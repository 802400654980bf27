"""Approval requests: a push with Approve / Deny buttons on every channel, answered by a tap
(a decision URL that is its own capability) or expired, which reads as denied."""
