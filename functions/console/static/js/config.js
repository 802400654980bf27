// The deployment's console settings: where to sign in, where the API is.

export async function loadConfig() {
  const response = await fetch("/console/config.json", { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Error(`the console's configuration did not load (${response.status})`);
  return response.json();
}
