// Sign-in: OpenID Connect discovery, then the authorization code flow with PKCE (S256) and a
// state. The access token lives in memory and in sessionStorage (this tab only, gone when it
// closes); it never appears in a URL, and the ?code=&state= the issuer returns with are
// stripped from the address bar before anything else happens.

const SESSION_KEY = "pushgate.console.session";
const PENDING_KEY = "pushgate.console.sign-in";
const CONSOLE_PATH = "/console/";

export const ROLES = {
  admin: { label: "Operator", scope: "openid push:admin" },
  app: { label: "App administrator", scope: "openid push:config push:send" },
  user: { label: "End user", scope: "openid" },
};

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomToken(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function s256(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The claims of a JWT, for display only (the API verifies the token; the console never trusts it). */
export function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    return JSON.parse(json);
  } catch {
    return {};
  }
}

export class Auth {
  constructor(config) {
    this.config = config;
    this.session = null;
    this._discovery = null;
    try {
      const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null");
      if (saved && saved.expires_at > Date.now()) this.session = saved;
      else sessionStorage.removeItem(SESSION_KEY);
    } catch {
      sessionStorage.removeItem(SESSION_KEY);
    }
  }

  get token() {
    if (this.session && this.session.expires_at <= Date.now()) this.signOut();
    return this.session?.access_token ?? null;
  }

  get claims() {
    return this.token ? claimsOf(this.token) : {};
  }

  /** "admin", "app" (a service token: sub is the app id) or "user"; null when signed out. */
  get role() {
    if (!this.token) return null;
    const scopes = String(this.claims.scope ?? this.session.scope ?? "").split(" ");
    if (scopes.includes("push:admin")) return "admin";
    if (scopes.includes("push:config") || scopes.includes("push:send")) return "app";
    return "user";
  }

  get canSignIn() {
    return Boolean(this.config.issuer);
  }

  async discovery() {
    if (this._discovery) return this._discovery;
    const issuer = this.config.issuer.replace(/\/+$/, "");
    const response = await fetch(`${issuer}/.well-known/openid-configuration`, { credentials: "omit" });
    if (!response.ok) throw new Error(`the sign-in service's discovery document did not load (${response.status})`);
    const document = await response.json();
    if (document.issuer !== this.config.issuer) throw new Error("the sign-in service names another issuer than the console's");
    const methods = document.code_challenge_methods_supported;
    if (Array.isArray(methods) && !methods.includes("S256")) throw new Error("the sign-in service does not support PKCE with S256");
    this._discovery = document;
    return document;
  }

  /** Goes to the issuer's sign-in page; comes back to `returnTo` once signed in. */
  async signIn(role, returnTo) {
    const { authorization_endpoint: endpoint } = await this.discovery();
    const verifier = randomToken(48);
    const state = randomToken(24);
    const scope = ROLES[role]?.scope ?? ROLES.admin.scope;
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, returnTo }));
    const url = new URL(endpoint);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: this.config.client_id,
      redirect_uri: this.config.redirect_uri,
      scope,
      state,
      code_challenge: await s256(verifier),
      code_challenge_method: "S256",
    }).toString();
    location.assign(url.toString());
  }

  /** Completes a sign-in the issuer redirected back from; returns the path to show next, or
   * null when this page load is no sign-in. The URL is cleaned first, whatever follows. */
  async completeSignIn() {
    const params = new URLSearchParams(location.search);
    if (!params.has("code") && !params.has("error")) return null;
    history.replaceState(history.state, "", location.pathname);
    const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null");
    sessionStorage.removeItem(PENDING_KEY);
    if (!pending || params.get("state") !== pending.state) {
      throw new Error("this sign-in was not started here, or it was started twice; sign in again");
    }
    if (params.has("error")) {
      throw new Error(`sign-in refused: ${params.get("error_description") || params.get("error")}`);
    }
    const { token_endpoint: endpoint } = await this.discovery();
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      credentials: "omit",
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: this.config.redirect_uri,
        client_id: this.config.client_id,
        code_verifier: pending.verifier,
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.access_token) {
      throw new Error(`sign-in failed: ${body.error_description || body.error || response.status}`);
    }
    this.session = {
      access_token: body.access_token,
      scope: body.scope ?? "",
      expires_at: Date.now() + 1000 * Number(body.expires_in ?? 3600),
    };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(this.session));
    const returnTo = String(pending.returnTo ?? "");
    return returnTo.startsWith(CONSOLE_PATH) && !returnTo.startsWith("//") ? returnTo : CONSOLE_PATH;
  }

  signOut() {
    this.session = null;
    sessionStorage.removeItem(SESSION_KEY);
  }
}
