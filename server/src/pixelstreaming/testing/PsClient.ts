/**
 * Test support: a Pixel Streaming peer built as Epic's own test harness (SS_Test) builds one,
 * on Epic's Common library (`SignallingProtocol` over `WebSocketTransportNJS`, messages made
 * with `MessageHelpers.createMessage`), that records every frame it receives byte for byte and
 * checks each message the way SS_Test does: a registered type, every required proto field, no
 * unknown field. Tests then read as "the streamer sends X, the player receives Y", and a hub that
 * would break an Epic client fails the test that met it.
 */
import {
  Logger,
  LogLevel,
  MessageHelpers,
  MessageRegistry,
  Messages,
  SignallingProtocol,
  WebSocketTransportNJS,
  type BaseMessage,
  type IMessageType,
} from "@epicgames-ps/lib-pixelstreamingcommon-ue5.5";

// Epic's logger prints every message at Debug level with a stack trace.
Logger.InitLogging(LogLevel.Disabled, false);

/** The `ws` socket under Epic's transport (typed from Epic's own copy of `ws`). */
export type PsWebSocket = NonNullable<WebSocketTransportNJS["webSocket"]>;

/** A Pixel Streaming message as it arrives: a `type` and any fields. */
export type PsMessage = { type: string } & Record<string, unknown>;

/** One frame as the hub wrote it. */
export interface PsFrame {
  data: string;
  binary: boolean;
  /** The parsed message; undefined when the frame is not a JSON object with a string `type`. */
  message: PsMessage | undefined;
}

export interface PsClose {
  code: number;
  reason: string;
}

export interface PsClientOptions {
  /** Check every received message as SS_Test does (default true). */
  validate?: boolean;
  /**
   * Answer the hub's JSON `ping{time}` with `pong{time}`, as Epic's frontend does, and keep the
   * ping out of `received` (default false: as in SS_Test, a ping is a message like any other).
   */
  answerPings?: boolean;
  /** Let the socket answer WebSocket control pings (default true; false plays a hung peer). */
  autoPong?: boolean;
}

/**
 * `subscribeFailed` is in Epic's proto but missing from `MessageRegistry` on every branch
 * (SS_Test never triggers it); it is a message the frontend handles, so it is checked here too.
 */
const REGISTRY: Record<string, IMessageType<BaseMessage>> = {
  ...MessageRegistry,
  subscribeFailed: Messages.subscribeFailed,
};

interface ProtoField {
  name: string;
  kind: string;
  opt?: boolean;
  repeat?: number;
  T: unknown;
}

/** protobuf-ts scalar type numbers: 8 = bool, 9 = string, 12 = bytes; the rest are numbers. */
function scalarProblem(value: unknown, scalarType: unknown): string | undefined {
  if (scalarType === 9 || scalarType === 12) return typeof value === "string" ? undefined : "a string";
  if (scalarType === 8) return typeof value === "boolean" ? undefined : "a boolean";
  // Any JSON number: `ping.time` is epoch ms from browsers, past the proto's int32 (trap T8).
  return typeof value === "number" && Number.isFinite(value) ? undefined : "a number";
}

function fieldProblem(field: ProtoField, value: unknown): string | undefined {
  const one = (item: unknown): string | undefined => {
    if (field.kind === "scalar") return scalarProblem(item, field.T);
    if (field.kind === "message") {
      return typeof item === "object" && item !== null && !Array.isArray(item) ? undefined : "an object";
    }
    return undefined;
  };
  if (field.repeat) {
    if (!Array.isArray(value)) return "an array";
    const bad = value.map(one).find((problem) => problem !== undefined);
    return bad === undefined ? undefined : `an array of ${bad.replace(/^an? /, "")}s`;
  }
  return one(value);
}

/**
 * What SS_Test (`Extras/SS_Test/src/signalling_tester.ts`, `validateProtoMessage`) would reject
 * in `message`, and, beyond it, a field of the wrong JSON type (a `playerId` number, a `sfu` string).
 * Empty when the message is acceptable.
 */
export function psProtocolProblems(message: unknown): string[] {
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return [`not a JSON object: ${JSON.stringify(message)}`];
  }
  const record = message as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== "string" || type === "") return [`no type: ${JSON.stringify(message)}`];
  const messageType = Object.hasOwn(REGISTRY, type) ? REGISTRY[type] : undefined;
  if (!messageType) return [`unknown type '${type}'`];
  const fields = messageType.fields as readonly ProtoField[];
  const problems: string[] = [];
  for (const field of fields) {
    if (!Object.hasOwn(record, field.name)) {
      if (!field.opt) problems.push(`'${type}' lacks required field '${field.name}'`);
      continue;
    }
    const problem = fieldProblem(field, record[field.name]);
    if (problem)
      problems.push(`'${type}'.${field.name} is not ${problem}: ${JSON.stringify(record[field.name])}`);
  }
  for (const name of Object.keys(record)) {
    if (!fields.some((field) => field.name === name)) problems.push(`'${type}' has unknown field '${name}'`);
  }
  return problems;
}

interface Waiter {
  predicate: (message: PsMessage) => boolean;
  resolve: (message: PsMessage) => void;
}

let pingTimes = 7_000_000_000_000;

export class PsClient {
  readonly url: string;
  readonly protocol: SignallingProtocol;
  readonly ws: PsWebSocket;
  /** Every frame received, in order. */
  readonly frames: PsFrame[] = [];
  /** Messages received and not yet taken by `next` (what SS_Test would call unhandled). */
  readonly received: PsMessage[] = [];
  /** What SS_Test would have rejected, one line per problem, naming the message. */
  readonly problems: string[] = [];
  /** Resolves when the socket is open; rejects when it fails to open. */
  readonly opened: Promise<void>;
  /** Resolves with the close code and reason when the socket is closed (by either side). */
  readonly closed: Promise<PsClose>;
  #closeInfo: PsClose | undefined;
  readonly #waiters: Waiter[] = [];
  readonly #options: Required<PsClientOptions>;

  /** Starts connecting; the socket is not open yet (use `opened`, or `PsClient.open`). */
  constructor(url: string, options: PsClientOptions = {}) {
    this.url = url;
    this.#options = { validate: true, answerPings: false, autoPong: true, ...options };
    const transport = new WebSocketTransportNJS();
    this.protocol = new SignallingProtocol(transport);
    this.protocol.connect(url);
    const ws = transport.webSocket;
    if (!ws) throw new Error("WebSocketTransportNJS opened no socket");
    this.ws = ws;
    if (!this.#options.autoPong) {
      // ws answers control pings inside its receiver unless told not to.
      (ws as unknown as { _autoPong: boolean })._autoPong = false;
    }
    ws.on("message", (data, isBinary) => {
      this.#onFrame(data, isBinary);
    });
    this.opened = new Promise<void>((resolve, reject) => {
      ws.once("open", () => {
        resolve();
      });
      ws.once("error", reject);
      ws.once("close", (code) => {
        reject(new Error(`socket closed (${code}) before it opened`));
      });
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise<PsClose>((resolve) => {
      ws.once("close", (code, reason) => {
        this.#closeInfo = { code, reason: reason.toString("utf8") };
        resolve(this.#closeInfo);
      });
    });
    ws.on("error", () => {
      // Reported through `opened`/`closed`; an unhandled 'error' would crash the test run.
    });
  }

  /** A client whose socket is open. */
  static async open(url: string, options?: PsClientOptions): Promise<PsClient> {
    const client = new PsClient(url, options);
    await client.opened;
    return client;
  }

  /** Runs `action` in the same tick as the socket opens (as Epic's frontend sends `listStreamers`). */
  onOpen(action: (client: PsClient) => void): this {
    this.ws.once("open", () => {
      action(this);
    });
    return this;
  }

  /** The close code and reason, once closed. */
  get closeInfo(): PsClose | undefined {
    return this.#closeInfo;
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Sends a message built as SS_Test builds it: every required field with its proto default. */
  send(messageType: IMessageType<BaseMessage>, params?: object): void {
    this.protocol.sendMessage(MessageHelpers.createMessage(messageType, params));
  }

  /** Sends anything: an object as JSON text, a string or a Buffer as it is. */
  sendRaw(data: unknown, options: { binary?: boolean } = {}): void {
    const payload = typeof data === "string" || Buffer.isBuffer(data) ? data : JSON.stringify(data);
    this.ws.send(payload, { binary: options.binary ?? Buffer.isBuffer(data) });
  }

  /** The next message of `type` (one already received and not yet taken counts), then takes it. */
  next(
    type: string,
    filter: (message: PsMessage) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<PsMessage> {
    const predicate = (message: PsMessage): boolean => message.type === type && filter(message);
    const index = this.received.findIndex(predicate);
    if (index >= 0) {
      const [found] = this.received.splice(index, 1);
      if (found) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `${this.url}: no '${type}' within ${timeoutMs} ms; unhandled: ${JSON.stringify(this.received)}` +
              (this.#closeInfo ? `; closed ${this.#closeInfo.code} '${this.#closeInfo.reason}'` : ""),
          ),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /**
   * A barrier: sends `ping` with a fresh `time` and waits for its `pong`. The hub answers in
   * order, so whatever it sent this client before reading the ping has arrived by then.
   */
  async roundTrip(timeoutMs = 3000): Promise<void> {
    const time = pingTimes++;
    this.send(Messages.ping, { time });
    await this.next("pong", (message) => message.time === time, timeoutMs);
  }

  /** Closes from this side (as a player tab closing). */
  close(code?: number, reason?: string): void {
    this.protocol.disconnect(code, reason);
  }

  /** Drops the TCP connection without a closing handshake (a crash, a pulled cable). */
  terminate(): void {
    this.ws.terminate();
  }

  #onFrame(data: Buffer | ArrayBuffer | Buffer[], binary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const text = bytes.toString("utf8");
    let message: PsMessage | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (
        typeof parsed === "object" &&
        parsed !== null &&
        typeof (parsed as { type?: unknown }).type === "string"
      ) {
        message = parsed as PsMessage;
      }
    } catch {
      message = undefined;
    }
    this.frames.push({ data: text, binary, message });
    if (this.#options.validate) {
      if (binary)
        this.problems.push(`binary frame (Epic's clients send and expect text): ${text.slice(0, 200)}`);
      for (const problem of psProtocolProblems(message ?? text)) {
        this.problems.push(`${problem} in ${text.slice(0, 300)}`);
      }
    }
    if (!message) return;
    if (this.#options.answerPings && message.type === "ping") {
      this.send(Messages.pong, { time: message.time });
      return;
    }
    const waiter = this.#waiters.find((candidate) => candidate.predicate(message));
    if (waiter) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(message);
      return;
    }
    this.received.push(message);
  }
}
