/**
 * Pixel Streaming lets a streamer call itself anything; heartline ids appear in URLs, logs and
 * Redis keys, so they follow heartline's grammar (1-64 letters, digits, '.', '_' or '-',
 * starting with a letter or digit). The committed id is reported back in `endpointIdConfirm`.
 */
import { StreamerIdSchema } from "@heartline/shared";

/** Epic's frontend and Unreal's default id when none is given. */
const DEFAULT_ID = "DefaultStreamer";

export function sanitizeStreamerId(requested: string): string {
  let id = requested.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[._-]+/, "");
  if (id.length > 64) id = id.slice(0, 64);
  if (id === "") id = DEFAULT_ID;
  return StreamerIdSchema.safeParse(id).success ? id : DEFAULT_ID;
}
