import {
  describeCloseReason,
  describeLate,
  describeRefusal,
  STATE_LABELS,
  type HeartlinePlayerView,
} from "@heartline/player";
import { element, setText } from "./dom.js";
import { secondsUntil } from "./format-stats.js";

function setShown(target: HTMLElement, text: string | null): void {
  target.hidden = text === null;
  setText(target, text ?? "");
}

/**
 * The status panel over the video (markup in index.html). Pure view: reads the player's view
 * and writes the DOM; `render()` is cheap enough to call on every change and on a 250 ms tick.
 */
export class Overlay {
  private readonly root = element("overlay", HTMLElement);
  private readonly state = element("state", HTMLElement);
  private readonly streamer = element("streamer", HTMLElement);
  private readonly lastPing = element("last-ping", HTMLElement);
  private readonly reason = element("reason", HTMLElement);
  private readonly detail = element("detail", HTMLElement);
  private readonly notice = element("notice", HTMLElement);
  private readonly picker = element("streamer-picker", HTMLUListElement);
  private pickerKey = "";

  render(s: HeartlinePlayerView, now: number): void {
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

    let reason: string | null = null;
    if (s.state === "ended" && s.closeReason !== null) {
      reason = describeCloseReason(s.closeReason, s.config?.heartbeat.timeoutMs ?? null);
    } else if (s.state === "refused" && s.refusal !== null) {
      reason = describeRefusal(s.refusal, location.origin);
    }
    setShown(this.reason, reason);
    if (s.closeReason === null) delete this.reason.dataset.reason;
    else this.reason.dataset.reason = s.closeReason;

    setShown(this.detail, this.nextStep(s, now));
    setShown(this.notice, s.notice);
    this.renderPicker(s);
  }

  /** What happens next, in plain words. */
  private nextStep(s: HeartlinePlayerView, now: number): string | null {
    const hubRetry = s.hubRetryAt === null ? null : secondsUntil(s.hubRetryAt, now);
    switch (s.state) {
      case "disconnected":
        return "Not connected to the hub.";
      case "connecting":
        return "Connecting to the hub…";
      case "offline":
        return hubRetry === null
          ? "The hub cannot be reached. Trying now…"
          : `The hub cannot be reached. Retrying in ${hubRetry} s — or press Reconnect.`;
      case "refused":
        return hubRetry === null ? "Trying again now…" : `Trying again in ${hubRetry} s.`;
      case "negotiating":
        return `Setting up the stream from ${s.streamerId ?? "the streamer"}…`;
      case "live":
        return s.firstFrameAt === null ? "Connected — waiting for the first video frame…" : null;
      case "stale":
        return `${describeLate(s.late, s.lateAway)} The video may stall; it recovers by itself, or the session ends.`;
      case "reconnecting":
        return hubRetry === null
          ? "Reconnecting to the hub… the video keeps playing."
          : `Lost the hub; next try in ${hubRetry} s. The video keeps playing meanwhile.`;
      case "waiting":
      case "ended": {
        if (s.paused) return "Press Reconnect to watch again.";
        if (s.retryAt !== null && s.choice.kind === "subscribe") {
          const left = secondsUntil(s.retryAt, now);
          // After a refusal the notice already names the stream.
          return s.notice === null
            ? `Rejoining ${s.choice.streamerId} in ${left} s…`
            : `Retrying in ${left} s — or press Reconnect.`;
        }
        if (s.choice.kind === "pick") return "Several streamers are live — pick one:";
        if (s.state === "ended" && s.closeReason === "hub-shutdown")
          return "Waiting for the hub to come back…";
        if (s.state === "ended") return "Waiting for the streamer to come back…";
        return s.choice.kind === "wait" && s.choice.streamerId !== null
          ? `“${s.choice.streamerId}” is not streaming right now. The video starts as soon as it is.`
          : "Nobody is streaming to this hub right now. The video starts as soon as someone does.";
      }
    }
  }

  private renderPicker(s: HeartlinePlayerView): void {
    const show = s.choice.kind === "pick" && (s.state === "waiting" || s.state === "ended");
    const key = show ? JSON.stringify(s.streamers) : "";
    this.picker.hidden = !show;
    if (key === this.pickerKey) return;
    this.pickerKey = key;
    const items = (show ? [...s.streamers] : [])
      .sort((a, b) => a.streamerId.localeCompare(b.streamerId))
      .map(({ streamerId, players }) => {
        const link = document.createElement("a");
        // Keeps the rest of the query (the operator's `?token=`).
        const params = new URLSearchParams(location.search);
        params.set("streamer", streamerId);
        link.href = `?${params.toString()}`;
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
