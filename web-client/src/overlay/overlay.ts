import type { LinkState, PlayerSession } from "../session/player-session.js";
import { describeCloseReason, describeLate, formatSeconds } from "./describe-reason.js";

/** Each label contains its state's name, so a test can match either. */
const STATE_LABELS: Record<LinkState, string> = {
  connecting: "Connecting to hub",
  waiting: "Waiting for streamer",
  negotiating: "Negotiating",
  live: "Live",
  stale: "Link degraded (stale)",
  reconnecting: "Reconnecting to hub",
  ended: "Ended",
  offline: "Offline — hub unreachable",
};

/** "12 ms", or "—" until the streamer has measured it. */
function formatRtt(ms: number | null): string {
  return ms === null ? "—" : `${Math.round(ms)} ms`;
}

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`index.html lacks #${id}`);
  return found;
}

function setText(target: HTMLElement, text: string): void {
  if (target.textContent !== text) target.textContent = text;
}

function setShown(target: HTMLElement, text: string | null): void {
  target.hidden = text === null;
  setText(target, text ?? "");
}

/**
 * The status panel over the video (markup in index.html). Pure view: reads the session and
 * writes the DOM; `render()` is cheap enough to call on every change and on a 250 ms tick.
 */
export class Overlay {
  private readonly root = element("overlay", HTMLElement);
  private readonly state = element("state", HTMLElement);
  private readonly streamer = element("streamer", HTMLElement);
  private readonly lastPing = element("last-ping", HTMLElement);
  private readonly heartbeat = element("heartbeat", HTMLElement);
  private readonly heartbeatRtt = element("heartbeat-rtt", HTMLElement);
  private readonly mediaRtt = element("media-rtt", HTMLElement);
  private readonly reason = element("reason", HTMLElement);
  private readonly detail = element("detail", HTMLElement);
  private readonly notice = element("notice", HTMLElement);
  private readonly picker = element("streamer-picker", HTMLUListElement);
  private pickerKey = "";

  constructor(
    private readonly session: PlayerSession,
    private readonly video: { readonly firstFrameAt: number | null },
  ) {}

  render(now: number): void {
    const s = this.session;
    this.root.dataset.state = s.state;
    this.state.dataset.state = s.state;
    setText(this.state, STATE_LABELS[s.state]);

    const named = s.choice.kind === "wait" ? s.choice.streamerId : null;
    setText(this.streamer, s.streamerId ?? named ?? "—");

    if (s.lastPingAt === null) {
      setText(this.lastPing, "—");
      delete this.lastPing.dataset.ageMs;
    } else {
      const age = Math.max(0, now - s.lastPingAt);
      setText(this.lastPing, `${(age / 1000).toFixed(1)} s ago`);
      this.lastPing.dataset.ageMs = String(Math.round(age));
    }

    const hb = s.config?.heartbeat;
    setText(
      this.heartbeat,
      hb ? `every ${formatSeconds(hb.intervalMs)}, timeout ${formatSeconds(hb.timeoutMs)}` : "—",
    );

    setText(this.heartbeatRtt, formatRtt(s.heartbeatRttMs));
    setText(this.mediaRtt, formatRtt(s.mediaRttMs));

    const reason =
      s.state === "ended" && s.closeReason !== null
        ? describeCloseReason(s.closeReason, hb?.timeoutMs ?? null)
        : null;
    setShown(this.reason, reason);
    if (s.closeReason === null) delete this.reason.dataset.reason;
    else this.reason.dataset.reason = s.closeReason;

    setShown(this.detail, this.nextStep(now));
    setShown(this.notice, s.notice);
    this.renderPicker();
  }

  /** What happens next, in plain words. */
  private nextStep(now: number): string | null {
    const s = this.session;
    switch (s.state) {
      case "connecting":
        return "Connecting to the hub…";
      case "offline":
        return "Hub unreachable — retrying…";
      case "negotiating":
        return `Setting up the stream from ${s.streamerId ?? "the streamer"}…`;
      case "live":
        return this.video.firstFrameAt === null ? "Connected — waiting for the first video frame…" : null;
      case "stale":
        return describeLate(s.late);
      case "reconnecting":
        return "Reconnecting to the hub… the video keeps playing.";
      case "waiting":
      case "ended": {
        if (s.retryAt !== null && s.choice.kind === "subscribe") {
          const left = Math.max(0, s.retryAt - now) / 1000;
          return `Rejoining ${s.choice.streamerId} in ${left.toFixed(1)} s…`;
        }
        if (s.choice.kind === "pick") return "Several streamers are live — pick one:";
        if (s.state === "ended" && s.closeReason === "hub-shutdown")
          return "Waiting for the hub to come back…";
        if (s.state === "ended") return "Waiting for the streamer to come back…";
        return s.choice.kind === "wait" && s.choice.streamerId !== null
          ? `Waiting for streamer “${s.choice.streamerId}”…`
          : "Waiting for a streamer…";
      }
    }
  }

  private renderPicker(): void {
    const s = this.session;
    const show = s.choice.kind === "pick" && (s.state === "waiting" || s.state === "ended");
    const key = show ? JSON.stringify(s.streamers) : "";
    this.picker.hidden = !show;
    if (key === this.pickerKey) return;
    this.pickerKey = key;
    const items = (show ? [...s.streamers] : [])
      .sort((a, b) => a.streamerId.localeCompare(b.streamerId))
      .map(({ streamerId, players }) => {
        const link = document.createElement("a");
        link.href = `?streamer=${encodeURIComponent(streamerId)}`;
        link.textContent = streamerId;
        const count = document.createElement("span");
        count.className = "players";
        count.textContent = players === 1 ? "1 viewer" : `${players} viewers`;
        const item = document.createElement("li");
        item.append(link, count);
        return item;
      });
    this.picker.replaceChildren(...items);
  }
}
