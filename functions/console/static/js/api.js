// The pushgate API as the console calls it: JSON in and out, the signed-in user's token as a
// bearer header (never in a URL), and every error as the API's own `error.message`.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** `/push/config/${seg(appId)}`: one path segment, whatever the id holds. */
export const seg = (value) => encodeURIComponent(String(value));

export function createApi({ base, getToken, onUnauthorized }) {
  async function request(method, path, { query, body } = {}) {
    const url = new URL(base + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    const headers = { accept: "application/json" };
    const token = getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "network_error", "pushgate could not be reached; check the connection and try again");
    }
    const text = response.status === 204 ? "" : await response.text();
    let payload = null;
    if (text) {
      try {
        payload = JSON.parse(text);
      } catch {
        payload = null;
      }
    }
    if (!response.ok) {
      const detail = payload?.error ?? {};
      const error = new ApiError(
        response.status,
        detail.code ?? "http_error",
        detail.message ?? `pushgate answered ${response.status} ${response.statusText}`.trim(),
      );
      if (response.status === 401 && onUnauthorized) onUnauthorized(error);
      throw error;
    }
    return payload;
  }
  return {
    get: (path, query) => request("GET", path, { query }),
    post: (path, body, query) => request("POST", path, { body, query }),
    put: (path, body) => request("PUT", path, { body }),
    patch: (path, body) => request("PATCH", path, { body }),
    delete: (path) => request("DELETE", path),
  };
}
