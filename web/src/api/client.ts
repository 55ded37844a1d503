// The one way the app talks to the collector: `/api/v1/...` with the user's bearer token.
// Every error answer of the collector is an ErrorV1 body (shared.schemas.ErrorV1); it becomes
// an ApiError the pages show with its message.

export interface ErrorBody {
  code: number;
  error: string;
  message: string;
  details: { loc?: string[]; msg?: string; type?: string }[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: number;
  readonly error: string;
  readonly details: ErrorBody["details"];

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.error = body.error;
    this.details = body.details;
  }
}

// Codes of shared.schemas.ErrorCode the app reacts to.
export const ErrorCodes = {
  MISSING_TOKEN: 4,
  INVALID_TOKEN: 5,
  REVOKED_TOKEN: 6,
  FORBIDDEN_ROLE: 11,
  NOT_FOUND: 12,
  CONFLICT: 13,
} as const;

/** The app's own code for "the collector could not be reached" (not a collector code). */
export const NETWORK_ERROR = -1;

export type QueryValue = string | number | boolean | null | undefined | readonly string[];
export type Query = Record<string, QueryValue>;

let token: string | null = null;
let onUnauthorized: ((error: ApiError) => void) | null = null;

export function setToken(value: string | null): void {
  token = value;
}

/** Called once by the session: a 401 on any request signs the person out. */
export function setUnauthorizedHandler(handler: ((error: ApiError) => void) | null): void {
  onUnauthorized = handler;
}

/** `/api/v1/plays?station=a&station=b&page=2`: lists repeat their key, empty values are left out. */
export function buildUrl(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Query;
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal | undefined;
  /** Use this token rather than the session's (sign-in checks a pasted token). */
  token?: string;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const bearer = options.token ?? token;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method: options.method ?? "GET",
      headers,
      body: body ?? null,
      signal: options.signal ?? null,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(0, {
      code: NETWORK_ERROR,
      error: "NETWORK",
      message: String(cause),
      details: [],
    });
  }
  if (!response.ok) {
    const error = new ApiError(response.status, await errorBody(response));
    if (response.status === 401 && options.token === undefined) onUnauthorized?.(error);
    throw error;
  }
  return response;
}

async function errorBody(response: Response): Promise<ErrorBody> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (typeof body.code === "number" && typeof body.message === "string") {
      return { code: body.code, error: body.error ?? "", message: body.message, details: body.details ?? [] };
    }
  } catch {
    // not the collector's JSON: a proxy's page; fall through
  }
  return {
    code: 99,
    error: "INTERNAL",
    message: `${response.status} ${response.statusText}`.trim(),
    details: [],
  };
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** The answer as a Blob (audio, a report file), with the file name the collector gave. */
export async function apiBlob(path: string, options: RequestOptions = {}): Promise<{ blob: Blob; filename: string }> {
  const response = await send(path, options);
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return { blob: await response.blob(), filename: match?.[1] ? decodeURIComponent(match[1]) : "download" };
}

/** Fetch a file with the token (a plain link cannot send it) and hand it to the browser. */
export async function download(path: string, query: Query = {}): Promise<void> {
  const { blob, filename } = await apiBlob(path, { query });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
