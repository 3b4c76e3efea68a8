/**
 * Why a client's connect failed, as one short string to count by: socket.io-client's
 * `connect_error` message plus what lies under it (the socket error code of a transport
 * error, the data of a refusal by the hub). Pure, so its shapes are unit-tested.
 */

interface ConnectError {
  message?: unknown;
  /** engine.io-client: the transport's error event (ws: an ErrorEvent with `.error`). */
  description?: unknown;
  /** socket.io: a refusal from the hub's middleware carries its data. */
  data?: unknown;
  code?: unknown;
}

function codeOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as { code?: unknown; error?: unknown; message?: unknown };
  if (typeof v.code === "string" || typeof v.code === "number") return String(v.code);
  if (v.error !== undefined) return codeOf(v.error) ?? messageOf(v.error);
  return undefined;
}

function messageOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) {
    const m = (value as { message?: unknown }).message;
    if (typeof m === "string" && m !== "") return m;
  }
  return undefined;
}

export function connectCause(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);
  const e = error as ConnectError;
  const message = typeof e.message === "string" && e.message !== "" ? e.message : "connect_error";
  const under =
    codeOf(e) ??
    codeOf(e.description) ??
    messageOf(e.description) ??
    (e.data === undefined ? undefined : JSON.stringify(e.data).slice(0, 120));
  return under === undefined || under === message ? message : `${message}: ${under}`;
}
