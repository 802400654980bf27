'use strict';
// web-push (npm) as the application server: encrypt each payload for a subscription.
// stdin  {"cases": [{"p256dh": b64url, "auth": b64url, "payload": b64url}]}
// stdout {"bodies": [b64url aes128gcm body]}
const { encrypt } = require('web-push/src/encryption-helper');
const { run, b64url, unb64url } = require('./_io');

run(({ cases }) => ({
  bodies: cases.map(({ p256dh, auth, payload }) => {
    const { cipherText } = encrypt(p256dh, auth, unb64url(payload), 'aes128gcm');
    return b64url(cipherText);
  }),
}));
