// @ts-nocheck
// JSON responses and the one error shape every route answers with: {"error": "...", ...details}.

export function json(status, body) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

export function errorResponse(status, message, details = {}) {
  return json(status, { error: message, ...details });
}

// A request that cannot be served; routes throw it and the router turns it into a response.
export class HttpError extends Error {
  constructor(status, message, details = {}) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

export async function readJsonBody(request, { optional = false } = {}) {
  const text = await request.text();
  if (optional && text.trim() === "") return {};
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, "the request body is not valid JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, "the request body must be a JSON object");
  }
  return body;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

// A positive integer query parameter, clamped to `max`; `fallback` when absent or not a number.
export function readLimit(url, name, fallback, max) {
  const parsed = Number.parseInt(url.searchParams.get(name) ?? "", 10);
  return Number.isFinite(parsed) && parsed > 0 ? Math.min(parsed, max) : fallback;
}

export function requireString(value, name) {
  if (typeof value !== "string" || value.trim() === "") throw new HttpError(400, `${name} is required (a non-empty string)`);
  return value.trim();
}
