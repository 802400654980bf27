'use strict';
// http_ece (npm, web-push's own dependency) as the user agent: decrypt each aes128gcm body.
// stdin  {"cases": [{"private_key": b64url 32-byte scalar, "auth": b64url, "body": b64url}]}
// stdout {"plaintexts": [b64url, or null when decryption throws]}
const crypto = require('crypto');
const ece = require('http_ece');
const { run, b64url, unb64url } = require('./_io');

run(({ cases }) => ({
  plaintexts: cases.map(({ private_key: privateKey, auth, body }) => {
    const userAgent = crypto.createECDH('prime256v1');
    userAgent.setPrivateKey(unb64url(privateKey));
    try {
      const plaintext = ece.decrypt(unb64url(body), {
        version: 'aes128gcm',
        privateKey: userAgent,
        authSecret: unb64url(auth),
      });
      return b64url(plaintext);
    } catch (error) {
      return null;
    }
  }),
}));
