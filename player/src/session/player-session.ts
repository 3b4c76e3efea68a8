import type {
  ConfigMessage,
  ErrorMessage,
  HubToPlayerMessage,
  OfferMessage,
  PlayerToHubMessage,
  ResumedMessage,
  SessionCloseReason,
  SessionStartedMessage,
  SessionStateMessage,
} from "@heartline/shared";
import { Backoff, type BackoffOptions, type Clock, type TimerHandle } from "@heartline/shared/timing";
import type { PeerFactory } from "../peer/player-peer.js";
import { chooseStreamer, type StreamerChoice, type StreamerEntry } from "./choose-streamer.js";
import { NO_FIGURES, Subscription, type SessionFigures } from "./subscription.js";

export { STATS_SAMPLE_MS } from "./subscription.js";

/** Where the player stands, as shown in the overlay and announced in `statechange` events. */
export type LinkState =
  /** Not connected, and not trying: before `connect()` or after `disconnect()`. */
  | "disconnected"
  /** Socket connecting, or connected and waiting for the hub's `config`. */
  | "connecting"
  /** Connected; the wanted streamer is not live (or the viewer has to pick one). */
  | "waiting"
  /** Subscribed; waiting for the session, the offer or ICE/DTLS. */
  | "negotiating"
  /** The peer connection is up. */
  | "live"
  /** The peer connection is up but the hub says an end missed a heartbeat (`late` says which). */
  | "stale"
  /** The socket dropped mid-session; the video keeps playing peer-to-peer while the hub
   * connection retries and resumes the session with the `resumeToken`. */
  | "reconnecting"
  /** The hub closed the session (`closeReason` says why); recovery is pending. */
  | "ended"
  /** The socket to the hub is down; the connection retries with backoff. */
  | "offline"
  /** The hub refused this player's token or page origin (`refusal` says which); retried slowly. */
  | "refused";

/**
 * Why a session ended on this side without the hub's `sessionClosed` (which carries a
 * `SessionCloseReason`): the socket dropped and the session could not be kept
 * (`hub-lost`), the hub no longer knew it (`session-not-found`), or the page called
 * `disconnect()` (`disconnected`).
 */
export type LocalEnding = "hub-lost" | "session-not-found" | "disconnected";

/** Why a session ended: the hub's reason, or one of ours. */
export type SessionEnding = SessionCloseReason | LocalEnding;

/** Everything the player shows, as one read-only snapshot (`PlayerSession.view`). */
export interface PlayerView extends SessionFigures {
  readonly state: LinkState;
  /** The last `config` from the hub, or null. */
  readonly config: ConfigMessage | null;
  readonly streamers: readonly StreamerEntry[];
  /** What the latest streamer list means for this player (picker, waiting, ...). */
  readonly choice: StreamerChoice;
  readonly sessionId: string | null;
  /** The streamer of the current (or last) session or subscription. */
  readonly streamerId: string | null;
  /** The reason of the last `sessionClosed`, or null if none arrived yet. */
  readonly closeReason: SessionCloseReason | null;
  /** A hub error or local failure about the current session, for the viewer. */
  readonly notice: string | null;
  readonly pingsReceived: number;
  readonly pongsSent: number;
  /** `clock.now()` when the last ping of a session arrived. */
  readonly lastPingAt: number | null;
  /** Sessions started since this player was made (resubscriptions included). */
  readonly sessionsStarted: number;
  /** `clock.now()` when the next resubscribe attempt is due, while one is scheduled. */
  readonly retryAt: number | null;
  /** Pings received (and answered) on the `heartline` data channel. */
  readonly mediaPingsReceived: number;
  /** Sessions kept across a socket drop (`resumed` listed ours). */
  readonly resumes: number;
  /** While `state` is "refused": the hub's handshake code (`unauthorized`, `origin-not-allowed`). */
  readonly refusal: string | null;
  /**
   * No automatic resubscribe: an operator ended the session (`kicked`), so coming straight back
   * would undo that; or the hub said this player may not watch that streamer (`not-allowed`).
   * `retryNow()` (the viewer's Reconnect) lifts it.
   */
  readonly paused: boolean;
}

/** The fields of the view the session itself keeps; the rest belongs to the subscription. */
type SessionFields = Omit<PlayerView, keyof SessionFigures | "sessionId">;

/** The hub side as the session sees it: one way out. */
export interface HubLink {
  /** Sends a message; dropped while the socket is down (a stale pong or answer helps nobody). */
  send(message: PlayerToHubMessage): void;
}

/** Where the remote media goes. */
export interface VideoSink {
  show(stream: MediaStream): void;
  clear(): void;
}

/**
 * What the session announces, always after the step that caused it has finished (never from
 * inside a half-done change), in the order it happened.
 */
export interface SessionObserver {
  /** `state` changed; `view` is the snapshot right after the change. */
  stateChanged?(view: PlayerView, previous: LinkState): void;
  sessionStarted?(session: { sessionId: string; streamerId: string }): void;
  sessionEnded?(session: { sessionId: string; streamerId: string; reason: SessionEnding }): void;
  /** A new receive-stats sample or media-path RTT. */
  figuresChanged?(view: PlayerView): void;
  /** The hub reported an error about our subscription or session, or the media failed. */
  problem?(problem: { code: string; message: string }): void;
  /** Anything in the view changed (the overlay re-renders). */
  changed?(): void;
}

export interface PlayerSessionOptions {
  link: HubLink;
  createPeer: PeerFactory;
  video: VideoSink;
  clock: Clock;
  /** The streamer to watch, or null to take the only one listed. */
  wantedStreamerId: string | null;
  /** Delays between resubscribes. Default: `new Backoff(RESUBSCRIBE_BACKOFF)`. */
  backoff?: Backoff;
  observer?: SessionObserver;
  /** The first state. Default "connecting" (the hub connection starts with the session). */
  initialState?: LinkState;
}

/**
 * How long to wait before resubscribing: sessions that end soon after starting (or never get
 * live) double the delay, 1 s up to 30 s, so a streamer that keeps failing is not hammered in a
 * hot loop.
 */
export const RESUBSCRIBE_BACKOFF = {
  initialMs: 1000,
  maxMs: 30_000,
  jitter: [1, 1],
} as const satisfies BackoffOptions;
/** A session live at least this long counts as healthy: the next resubscribe starts from 1 s again. */
export const STABLE_SESSION_MS = 10_000;

/** Slack on top of `heartbeat.resumeGraceMs` before giving up on resuming. */
export const RESUME_SLACK_MS = 1000;

/**
 * The player's one session with the hub: subscribes, answers the streamer's offer, answers pings,
 * and recovers when a session ends or the hub drops.
 *
 * Three rules keep it small: the current attempt is one `Subscription` object, so teardown is
 * `#teardown()` closing it; every change of what the viewer sees goes through `#update()`; and
 * the outside reads `view`, a frozen snapshot, never a field.
 */
export class PlayerSession {
  #fields: SessionFields;
  #sub: Subscription | null = null;

  readonly #link: HubLink;
  readonly #createPeer: PeerFactory;
  readonly #video: VideoSink;
  readonly #clock: Clock;
  readonly #wanted: string | null;
  readonly #backoff: Backoff;
  readonly #observer: SessionObserver;
  /** Announcements of the step in progress; `#flush()` delivers them when it is done. */
  #pending: (() => void)[] = [];
  #retryTimer: TimerHandle | null = null;
  /** Runs out the resume grace period while the socket is down mid-session. */
  #resumeTimer: TimerHandle | null = null;
  /** The socket is connected (whether or not its `config` arrived). */
  #hubUp = false;
  /** Connected, and the first `config` of this connection has not arrived yet. */
  #awaitingConfig = false;
  /** A `streamerList` arrived since the last connection's `config`. */
  #listFresh = false;

  constructor(options: PlayerSessionOptions) {
    this.#link = options.link;
    this.#createPeer = options.createPeer;
    this.#video = options.video;
    this.#clock = options.clock;
    this.#wanted = options.wantedStreamerId;
    this.#backoff = options.backoff ?? new Backoff(RESUBSCRIBE_BACKOFF);
    this.#observer = options.observer ?? {};
    this.#fields = {
      state: options.initialState ?? "connecting",
      config: null,
      streamers: [],
      choice: { kind: "wait", streamerId: this.#wanted },
      streamerId: null,
      closeReason: null,
      notice: null,
      pingsReceived: 0,
      pongsSent: 0,
      lastPingAt: null,
      sessionsStarted: 0,
      retryAt: null,
      mediaPingsReceived: 0,
      resumes: 0,
      refusal: null,
      paused: false,
    };
  }

  /** What the player shows now; a new frozen object after every change. */
  get view(): PlayerView {
    const sub = this.#sub;
    return Object.freeze({
      ...this.#fields,
      ...(sub?.figures ?? NO_FIGURES),
      sessionId: sub?.sessionId ?? null,
    });
  }

  /** The current session's peer connection, or null. */
  get pc(): RTCPeerConnection | null {
    return this.#sub?.pc ?? null;
  }

  /** The `resumeToken` of the last `config`, for the handshake of every reconnection. */
  get resumeToken(): string | null {
    return this.#fields.config?.resumeToken ?? null;
  }

  /** The page is connecting (again) after `stop()`. */
  starting(): void {
    if (this.#fields.state === "disconnected") this.#update({ state: "connecting", notice: null });
    this.#flush();
  }

  /**
   * The page called `disconnect()`: the session ends here (the closed socket tells the hub),
   * nothing is retried, and the next `starting()` begins afresh.
   */
  stop(): void {
    this.#hubUp = false;
    this.#awaitingConfig = false;
    this.#cancelRetry();
    this.#teardown("disconnected");
    this.#backoff.reset();
    this.#update({ state: "disconnected", notice: null, refusal: null, paused: false });
    this.#flush();
  }

  /** The socket (re)connected: wait for `config` (and `resumed`), then carry on or start over. */
  hubConnected(): void {
    this.#hubUp = true;
    this.#awaitingConfig = true;
    this.#listFresh = false;
    this.#update(
      this.#fields.state === "reconnecting"
        ? { refusal: null }
        : { refusal: null, state: "connecting", notice: null },
    );
    this.#flush();
  }

  /**
   * The socket dropped. A session whose media is up keeps playing peer-to-peer while the hub
   * connection retries with the resume token; the hub keeps it for `resumeGraceMs`. Anything else
   * (no session, or one still negotiating: its answer may be lost) is dropped here.
   */
  hubDisconnected(): void {
    if (this.#fields.state === "disconnected") return;
    this.#hubUp = false;
    this.#awaitingConfig = false;
    this.#cancelRetry();
    const sub = this.#sub;
    if (sub !== null && sub.sessionId !== null && sub.mediaUp) {
      sub.setLate(null, false);
      this.#update({ state: "reconnecting" });
      this.#startResumeTimer();
    } else {
      this.#teardown("hub-lost");
      this.#update({ state: "offline" });
    }
    this.#flush();
  }

  /**
   * The hub could not be reached, or refused the handshake; either way we keep retrying.
   * @param refusal the hub's handshake error code, or null if it was just unreachable.
   */
  hubUnreachable(refusal: string | null): void {
    if (this.#fields.state === "disconnected") return;
    this.#hubUp = false;
    this.#awaitingConfig = false;
    this.#cancelRetry();
    // A failed reconnection attempt: the session may still be resumed within the grace period.
    if (this.#fields.state === "reconnecting" && refusal === null) {
      this.#flush();
      return;
    }
    this.#teardown("hub-lost");
    this.#update({
      state: "offline",
      refusal: null,
      notice:
        refusal === null
          ? null
          : refusal === "too-many-connections"
            ? "The hub has too many connections from this network right now."
            : `The hub refused this player (${refusal}).`,
    });
    this.#flush();
  }

  /**
   * The hub refused this player's token or page origin. Nothing to resume: a new link is needed
   * (the connection still retries slowly, in case the operator fixes it on the hub's side).
   */
  hubRefused(refusal: string): void {
    if (this.#fields.state === "disconnected") return;
    this.#hubUp = false;
    this.#awaitingConfig = false;
    this.#cancelRetry();
    this.#teardown("hub-lost");
    this.#update({ state: "refused", refusal, notice: null });
    this.#flush();
  }

  /**
   * The viewer asked to try again now (the Reconnect button) while waiting or after an ending:
   * skips the pending delay and lifts the pause after a `kicked`. Reconnecting the socket itself
   * is the hub connection's business.
   */
  retryNow(): void {
    const { state } = this.#fields;
    if (state !== "waiting" && state !== "ended") return;
    if (this.#sub !== null) return;
    this.#backoff.reset();
    this.#cancelRetry();
    this.#update({ paused: false });
    this.#link.send({ type: "listStreamers" });
    this.#flush();
  }

  /** One validated message from the hub. */
  handle(message: HubToPlayerMessage): void {
    switch (message.type) {
      case "ping": {
        // Answered here and now, from the message handler, never from a timer: hidden tabs
        // throttle timers (to once a minute), but socket messages keep being delivered, so a
        // background tab keeps its session. The stats are the cached copy, never awaited here.
        const sub = this.#sub;
        if (sub === null || message.sessionId !== sub.sessionId) return;
        const stats = sub.figures.receiveStats;
        this.#link.send(
          stats === null
            ? { type: "pong", sessionId: message.sessionId, time: message.time }
            : { type: "pong", sessionId: message.sessionId, time: message.time, stats },
        );
        if (message.rttMs !== undefined) sub.setHeartbeatRtt(message.rttMs);
        this.#update({
          pongsSent: this.#fields.pongsSent + 1,
          pingsReceived: this.#fields.pingsReceived + 1,
          lastPingAt: this.#clock.now(),
        });
        return; // display only, and frequent: the overlay polls the age of the last ping
      }
      case "probe":
        // "Answer me", from the message handler: a frozen tab cannot, a slow link does, late.
        this.#link.send({ type: "probeAck", probeId: message.probeId });
        return;
      case "mediaCheck": {
        const { sessionId, checkId } = message;
        const sub = this.#sub;
        const checked =
          sub !== null && sub.sessionId === sessionId ? sub.checkMedia() : Promise.resolve(false);
        void checked.then((flowing) => {
          this.#link.send({ type: "mediaReport", sessionId, checkId, flowing });
        });
        return;
      }
      case "config":
        this.#configured(message);
        break;
      case "resumed":
        this.#resumed(message);
        break;
      case "sessionState":
        this.#sessionState(message);
        break;
      case "streamerList":
        this.#update({ streamers: message.streamers });
        this.#listFresh = true;
        this.#considerSubscribing();
        break;
      case "sessionStarted":
        this.#sessionStarted(message);
        break;
      case "offer":
        this.#offer(message);
        break;
      case "iceCandidate": {
        const sub = this.#sub;
        if (sub === null || message.sessionId !== sub.sessionId) return;
        sub.remoteCandidate(message.candidate);
        return;
      }
      case "sessionClosed":
        if (this.#sub === null || message.sessionId !== this.#sub.sessionId) return;
        this.#ended(message.reason);
        break;
      case "error":
        this.#hubError(message);
        break;
    }
    this.#flush();
  }

  /**
   * The one function that changes what the view shows (besides the subscription's own
   * figures). A change of `state` is queued for announcement with the snapshot after it.
   */
  #update(patch: Partial<SessionFields>): void {
    const previous = this.#fields.state;
    this.#fields = { ...this.#fields, ...patch };
    if (this.#fields.state !== previous) {
      const view = this.view;
      this.#pending.push(() => this.#observer.stateChanged?.(view, previous));
    }
  }

  /** Delivers what the finished step announced, then says the view changed. */
  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const announce of pending) announce();
    this.#observer.changed?.();
  }

  /** The first `config` of a connection starts things; a later one is a live config change. */
  #configured(message: ConfigMessage): void {
    this.#update({ config: message });
    if (!this.#awaitingConfig) return; // live change: shown from `config`, nothing restarts
    this.#awaitingConfig = false;
    // Resuming: `resumed` follows and decides; otherwise start over.
    if (this.#fields.state !== "reconnecting") this.#update({ state: "waiting" });
    this.#link.send({ type: "listStreamers" });
  }

  #resumed(message: ResumedMessage): void {
    const sessionId = this.#sub?.sessionId ?? null;
    const kept = sessionId !== null && message.sessionIds.includes(sessionId);
    // Sessions the hub kept for us that we no longer have (given up while away): end them.
    for (const id of message.sessionIds) {
      if (id !== sessionId) this.#link.send({ type: "unsubscribe", sessionId: id });
    }
    if (this.#fields.state !== "reconnecting") return;
    this.#cancelResumeTimer();
    if (kept) {
      this.#update({ state: "live", resumes: this.#fields.resumes + 1 });
      return;
    }
    // The hub closed our session while we were away: start over like after an ending.
    this.#teardown("hub-lost");
    this.#update({ state: "waiting", notice: "The session was lost while the hub was unreachable." });
    if (this.#listFresh) this.#considerSubscribing(); // else the list `config` asked for decides
  }

  #sessionState(message: SessionStateMessage): void {
    const sub = this.#sub;
    if (sub === null || message.sessionId !== sub.sessionId) return;
    const { state } = this.#fields;
    if (message.state === "stale") {
      sub.setLate(message.late ?? null, message.away === true);
      if (state === "live") this.#update({ state: "stale" });
    } else {
      sub.setLate(null, false);
      if (state === "stale") this.#update({ state: "live" });
    }
  }

  #considerSubscribing(): void {
    const choice = chooseStreamer(this.#fields.streamers, this.#wanted, this.#fields.streamerId);
    this.#update({ choice });
    const { state, paused } = this.#fields;
    if (state === "connecting" || state === "offline" || state === "reconnecting") return;
    if (state === "refused" || state === "disconnected" || paused) return;
    if (this.#sub !== null) return;
    // While a retry is scheduled it asks for a fresh list itself when due.
    if (this.#retryTimer !== null) return;
    if (choice.kind === "subscribe") {
      this.#subscribe(choice.streamerId);
    } else if (state !== "ended") {
      // After an ending, keep showing why it ended until a new session starts.
      this.#update({ state: "waiting" });
    }
  }

  #newSubscription(streamerId: string): Subscription {
    const sub: Subscription = new Subscription({
      streamerId,
      clock: this.#clock,
      createPeer: this.#createPeer,
      events: {
        send: (message) => {
          this.#link.send(message);
        },
        remoteStream: (stream) => {
          this.#video.show(stream);
        },
        peerState: (state) => {
          this.#peerStateChanged(sub, state);
        },
        answerFailed: (error) => {
          console.error("heartline: could not answer the streamer's offer", error);
          this.#giveUpSession(sub, "negotiation-failed", "Could not negotiate with the streamer.");
          this.#flush();
        },
        figuresChanged: (kind) => {
          if (kind === "media-ping") {
            this.#update({ mediaPingsReceived: this.#fields.mediaPingsReceived + 1 });
          }
          const view = this.view;
          this.#pending.push(() => this.#observer.figuresChanged?.(view));
          this.#flush();
        },
      },
    });
    return sub;
  }

  #subscribe(streamerId: string): void {
    this.#sub = this.#newSubscription(streamerId);
    this.#update({ streamerId, notice: null, state: "negotiating" });
    this.#link.send({ type: "subscribe", streamerId });
  }

  #sessionStarted(message: SessionStartedMessage): void {
    if (this.#sub?.sessionId != null) {
      // The hub thinks we hold two sessions; keep the one we have.
      console.warn("heartline: unexpected second session, unsubscribing", message.sessionId);
      this.#link.send({ type: "unsubscribe", sessionId: message.sessionId });
      return;
    }
    this.#sub ??= this.#newSubscription(message.streamerId);
    this.#sub.started(message.sessionId);
    const session = { sessionId: message.sessionId, streamerId: message.streamerId };
    this.#pending.push(() => this.#observer.sessionStarted?.(session));
    this.#update({
      streamerId: message.streamerId,
      sessionsStarted: this.#fields.sessionsStarted + 1,
      lastPingAt: null,
      notice: null,
      state: "negotiating",
    });
  }

  #offer(message: OfferMessage): void {
    const sub = this.#sub;
    const config = this.#fields.config;
    if (sub === null || message.sessionId !== sub.sessionId || config === null) {
      console.warn("heartline: ignoring offer for another session", message.sessionId);
      return;
    }
    sub.offer(message.sdp, config.iceServers);
  }

  #peerStateChanged(sub: Subscription, state: RTCPeerConnectionState): void {
    if (sub !== this.#sub) return;
    if (state === "connected") {
      if (this.#fields.state === "negotiating") {
        this.#update({ state: sub.figures.late === null ? "live" : "stale" });
      }
    } else if (state === "failed") {
      // Only `failed`: `disconnected` often recovers by itself.
      if (this.#fields.state === "reconnecting") {
        // Nobody to tell: drop it here; `resumed` will list it and we end it then.
        this.#teardown("hub-lost");
        this.#update({
          state: "offline",
          notice: "The video connection failed while the hub was unreachable.",
        });
      } else {
        this.#giveUpSession(sub, "media-failed", "The media connection failed.", true);
      }
    }
    this.#flush();
  }

  /**
   * Asks the hub to end a session that cannot work; its `sessionClosed` triggers the retry.
   * @param mediaFailed the media path died: `endSession` (`media-timeout`), else `unsubscribe`.
   */
  #giveUpSession(sub: Subscription, code: string, notice: string, mediaFailed = false): void {
    const sessionId = sub.sessionId;
    if (sub !== this.#sub || sessionId === null) return;
    this.#update({ notice });
    this.#pending.push(() => this.#observer.problem?.({ code, message: notice }));
    this.#link.send(
      mediaFailed
        ? { type: "endSession", sessionId, reason: "media-timeout" }
        : { type: "unsubscribe", sessionId },
    );
  }

  #ended(reason: SessionCloseReason): void {
    const liveSince = this.#sub?.liveSince ?? null;
    const liveMs = liveSince === null ? null : this.#clock.now() - liveSince;
    this.#teardown(reason);
    // The reason already says it; a "media failed" notice of ours would repeat it.
    const notice = reason === "media-timeout" ? null : this.#fields.notice;
    if (reason === "kicked") {
      this.#update({ closeReason: reason, notice, state: "ended", paused: true });
      return;
    }
    this.#update({ closeReason: reason, notice, state: "ended" });
    if (liveMs !== null && liveMs >= STABLE_SESSION_MS) this.#backoff.reset();
    this.#scheduleRetry(this.#backoff.next());
  }

  #hubError(message: ErrorMessage): void {
    console.warn("heartline: hub error", message.code, message.message, message.sessionId ?? "");
    const sub = this.#sub;
    const refusedSubscribe =
      sub !== null && sub.sessionId === null ? this.#describeSubscribeRefusal(sub.streamerId, message) : null;
    if (sub !== null && refusedSubscribe !== null) {
      sub.close();
      this.#sub = null;
      this.#update({
        notice: refusedSubscribe,
        ...(this.#fields.state === "ended" ? {} : { state: "waiting" as const }),
      });
      this.#pending.push(() => this.#observer.problem?.({ code: message.code, message: refusedSubscribe }));
      // Retrying cannot make a link valid for another streamer: wait for the viewer.
      if (message.code === "not-allowed") this.#update({ paused: true });
      else this.#scheduleRetry(this.#backoff.next());
    } else if (sub !== null && message.sessionId !== undefined && message.sessionId === sub.sessionId) {
      const notice = `Hub: ${message.message} (${message.code})`;
      this.#update({ notice });
      this.#pending.push(() => this.#observer.problem?.({ code: message.code, message: notice }));
      if (message.code === "session-not-found") {
        // The hub no longer knows our session: drop it and start again.
        this.#teardown("session-not-found");
        this.#update({ state: "waiting" });
        this.#scheduleRetry(this.#backoff.next());
      }
    }
  }

  /** Plain words for a hub error refusing our `subscribe`, or null if it is about something else. */
  #describeSubscribeRefusal(streamerId: string, message: ErrorMessage): string | null {
    switch (message.code) {
      case "streamer-not-found":
        return `Streamer ${streamerId} is not live.`;
      case "streamer-full": {
        const players = this.#fields.streamers.find((s) => s.streamerId === streamerId)?.players;
        return players === undefined
          ? "This stream is full."
          : `This stream is full (${players} ${players === 1 ? "viewer" : "viewers"}).`;
      }
      case "too-many-subscriptions":
        return "This player already watches as many streams as the hub allows; close another player tab.";
      case "not-allowed":
        return `This link does not allow watching ${streamerId}. Ask the operator for a link to it.`;
      case "cluster-unavailable":
        return `Streamer ${streamerId} is on another hub that this hub cannot reach right now; retrying.`;
      default:
        return null;
    }
  }

  #scheduleRetry(delayMs: number): void {
    this.#cancelRetry();
    this.#update({ retryAt: this.#clock.now() + delayMs });
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = null;
      this.#update({ retryAt: null });
      // A fresh list: its answer decides whether (and to whom) to subscribe.
      this.#link.send({ type: "listStreamers" });
      this.#flush();
    }, delayMs);
  }

  #startResumeTimer(): void {
    this.#cancelResumeTimer();
    const graceMs = this.#fields.config?.heartbeat.resumeGraceMs ?? 0;
    this.#resumeTimer = this.#clock.setTimeout(() => {
      this.#resumeTimer = null;
      if (this.#fields.state !== "reconnecting") return;
      this.#teardown("hub-lost");
      if (this.#hubUp) {
        // Connected, but no `resumed` came (a hub without resume): start over.
        this.#update({ state: "waiting" });
        this.#link.send({ type: "listStreamers" });
      } else {
        this.#update({ state: "offline" });
      }
      this.#flush();
    }, graceMs + RESUME_SLACK_MS);
  }

  #cancelResumeTimer(): void {
    if (this.#resumeTimer !== null) this.#clock.clearTimeout(this.#resumeTimer);
    this.#resumeTimer = null;
  }

  #cancelRetry(): void {
    if (this.#retryTimer !== null) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (this.#fields.retryAt !== null) this.#update({ retryAt: null });
  }

  /**
   * Drops the current attempt locally: one object, one call. Idempotent.
   * @param reason announced with `sessionEnded` if the attempt had a session.
   */
  #teardown(reason: SessionEnding): void {
    const sub = this.#sub;
    this.#sub = null;
    this.#video.clear();
    this.#cancelResumeTimer();
    if (sub === null) return;
    sub.close();
    const sessionId = sub.sessionId;
    if (sessionId !== null) {
      const ended = { sessionId, streamerId: this.#fields.streamerId ?? sub.streamerId, reason };
      this.#pending.push(() => this.#observer.sessionEnded?.(ended));
    }
  }
}
