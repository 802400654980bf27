// The README's lines, runnable: `node examples/readme.mjs send|verify` with the values in
// the environment (PUSHGATE_URL, PUSHGATE_TOKEN; for verify, RECEIPT_FILE and
// WEBHOOK_SECRET). make test runs it against the local stack (tests/e2e/test_node_client.py).
import { readFileSync } from "node:fs";

import { Pushgate, verifyReceipt } from "../index.js";

const { PUSHGATE_URL, PUSHGATE_TOKEN, RECEIPT_FILE, WEBHOOK_SECRET } = process.env;

if (process.argv[2] === "send") {
  // -- the README's lines ---------------------------------------------------------------
  const push = new Pushgate(PUSHGATE_URL, { token: PUSHGATE_TOKEN });
  const notificationId = await push.send("alice", "Hello", "You have a reply");
  const broadcastId = await push.broadcast("Maintenance tonight", "22:00-23:00 UTC"); // every device
  const approval = await push.approvals.create("alice", "Sign in?", "Firefox on Linux");
  console.log(JSON.stringify({ notificationId, approvalId: approval.approval_id }));
  const answer = await push.approvals.wait(approval.approval_id, { timeoutMs: 60_000 });
  // -------------------------------------------------------------------------------------
  let broadcast = await push.broadcastStatus(broadcastId);
  for (let tries = 0; !broadcast.finished && tries < 300; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    broadcast = await push.broadcastStatus(broadcastId);
  }
  console.log(JSON.stringify({ answer, broadcast, status: await push.notificationStatus(notificationId) }));
} else if (process.argv[2] === "verify") {
  const { body, headers } = JSON.parse(readFileSync(RECEIPT_FILE, "utf8"));
  const receipt = verifyReceipt(body, headers, WEBHOOK_SECRET); // in your webhook handler
  console.log(JSON.stringify(receipt));
} else {
  console.error("usage: node examples/readme.mjs send|verify");
  process.exit(2);
}
