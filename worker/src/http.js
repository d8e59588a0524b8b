// JSON responses, the one error shape every route answers with ({"error": "...", ...details}), and
// request bodies within their budget.
//
// Bodies: at most MAX_BODY_BYTES (hyphae:worker.maxBodyBytes). A larger Content-Length is refused
// with 413 before a byte is read, and a body without one is counted while it streams in and
// cancelled at the limit: the Worker has 128 MB, and a body read whole takes several times its size.

export function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

export function errorResponse(status, message, details = {}, headers = {}) {
  return json(status, { error: message, ...details }, headers);
}

// A request that cannot be served; routes throw it and the router turns it into a response.
export class HttpError extends Error {
  constructor(status, message, details = {}) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

// The positive integer a variable or query parameter holds, else null: unset, empty, zero,
// negative or no number (parseInt reads undefined and null as NaN). Limits and generations read
// their text through it, each with its own fallback.
export function positiveInteger(value) {
  const parsed = Number.parseInt(value, 10);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : null;
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export const maxBodyBytes = (env) => positiveInteger(env.MAX_BODY_BYTES) ?? DEFAULT_MAX_BODY_BYTES;

const tooLarge = (limit) =>
  new HttpError(413, `the request body is over ${limit} bytes (hyphae:worker.maxBodyBytes); send fewer or smaller records`);

// 413 when the declared Content-Length is over the limit: nothing has been read yet.
export function requireDeclaredLength(request, env) {
  const limit = maxBodyBytes(env);
  const declared = Number(request.headers.get("content-length")); // none: Number(null) is 0
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
}

// The body as text, counted while it streams in; cancelled and refused (413) at the limit, 400 when
// it is not UTF-8. Chunks are decoded as they come, so the raw bytes are never held twice.
export async function readBodyText(request, env) {
  requireDeclaredLength(request, env);
  if (!request.body) return "";
  const limit = maxBodyBytes(env);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const reader = request.body.getReader();
  const parts = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw tooLarge(limit);
      parts.push(decoder.decode(value, { stream: true }));
    }
    parts.push(decoder.decode());
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, "the request body is not UTF-8 text");
  }
  return parts.join("");
}

export async function readJsonBody(request, env, { optional = false } = {}) {
  const text = await readBodyText(request, env);
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

// A refusal sent before the body was read: a small rest is read and dropped, so the connection
// stays usable (workerd resets a kept-alive connection it closes with unread data, and the client's
// next request on it fails); a larger one is cancelled, never read. Never held in memory either way.
const DRAINED_ON_REFUSAL = 1024 * 1024;

export async function settleUnreadBody(request) {
  if (!request.body || request.bodyUsed) return;
  let reader;
  try {
    reader = request.body.getReader();
    const declared = Number(request.headers.get("content-length")); // none: Number(null) is 0
    if (!(declared > DRAINED_ON_REFUSAL)) {
      for (let seen = 0; seen <= DRAINED_ON_REFUSAL;) {
        const { done, value } = await reader.read();
        if (done) return;
        seen += value.byteLength;
      }
    }
    await reader.cancel();
  } catch {
    // a body the client stopped sending: nothing left to settle
  }
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

// A positive integer query parameter, clamped to `max`; `fallback` when absent or not a number.
export function readLimit(url, name, fallback, max) {
  const parsed = positiveInteger(url.searchParams.get(name));
  return parsed === null ? fallback : Math.min(parsed, max);
}

// The JSON type of a value as a message says it ("a string", "an object", ...).
export function describeType(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a number";
  return `a ${typeof value}`;
}

const MAX_TEXT_FIELD_BYTES = 2_000_000; // D1's largest string
const encoder = new TextEncoder();

// A body field that must be a string: 400 when it has another type, 413 when D1 could not store it.
function checkText(value, name) {
  if (typeof value !== "string") throw new HttpError(400, `${name} must be a string, not ${describeType(value)}`);
  const bytes = value.length > MAX_TEXT_FIELD_BYTES ? value.length : encoder.encode(value).length;
  if (bytes > MAX_TEXT_FIELD_BYTES) throw new HttpError(413, `${name} is over ${MAX_TEXT_FIELD_BYTES} bytes (D1's largest string)`);
  return value;
}

export function requireString(value, name) {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) {
    throw new HttpError(400, `${name} is required (a non-empty string)`);
  }
  return checkText(value, name).trim();
}

// An optional string field: null when absent, else as `requireString` checks it.
export const optionalString = (value, name) => (value === undefined || value === null ? null : checkText(value, name));
