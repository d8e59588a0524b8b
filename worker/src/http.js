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

export async function readJsonBody(request) {
  let body;
  try {
    body = await request.json();
  } catch {
    throw new HttpError(400, "the request body is not valid JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, "the request body must be a JSON object");
  }
  return body;
}
