/**
 * Test support: a bare Pixel Streaming peer on the real `ws` client that records every frame,
 * can stop answering the hub's JSON pings (a frozen tab) or its WebSocket pings (a hung
 * process), and reads as "streamer sends X, player receives Y".
 */
import { WebSocket } from "ws";

export type Frame = { type: string } & Record<string, unknown>;

export class RawPs {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  /** Answer the hub's JSON `ping` with `pong` (Epic's frontend does, from its message handler). */
  answerPings = true;
  closed: { code: number; reason: string } | undefined;
  readonly #waiters = new Set<() => void>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data) => {
      const frame = JSON.parse(
        Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.concat(data as Buffer[]).toString("utf8"),
      ) as Frame;
      this.frames.push(frame);
      if (frame.type === "ping" && this.answerPings) this.send({ type: "pong", time: frame.time });
      this.#wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString("utf8") };
      this.#wake();
    });
  }

  /** `autoPong: false` makes a peer whose WebSocket stack stopped answering control pings. */
  static async connect(url: string, options: { autoPong?: boolean } = {}): Promise<RawPs> {
    const ws = new WebSocket(url, { autoPong: options.autoPong ?? true });
    const peer = new RawPs(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => {
        resolve();
      });
      ws.once("error", reject);
    });
    return peer;
  }

  /** A streamer that identified as `id`; resolves to the committed id. */
  static async streamer(
    url: string,
    id: string,
    options: { autoPong?: boolean } = {},
  ): Promise<{ s: RawPs; committedId: string }> {
    const s = await RawPs.connect(url, options);
    await s.next("identify");
    s.send({ type: "endpointId", id });
    const confirm = await s.next("endpointIdConfirm");
    return { s, committedId: String(confirm.committedId) };
  }

  send(frame: Frame): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Frames of `type` received so far. */
  all(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** The `index`-th frame of `type` (0: the first), waiting for it up to `timeoutMs`. */
  async next(type: string, index = 0, timeoutMs = 5000): Promise<Frame> {
    await this.until(() => this.all(type).length > index, `frame '${type}' #${index}`, timeoutMs);
    const frame = this.all(type)[index];
    if (!frame) throw new Error(`no frame '${type}'`);
    return frame;
  }

  async closedWith(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    await this.until(() => this.closed !== undefined, "close", timeoutMs);
    return this.closed ?? { code: 0, reason: "" };
  }

  async until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => f.type))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
    this.#waiters.clear();
  }
}
