import { formatSeconds, type PlayerView } from "@heartline/player";
import { formatBitrate, formatCodec, formatFps, formatMs, formatResolution } from "./format-stats.js";
import { element, setText } from "./dom.js";

/**
 * The stats overlay (markup in index.html): heartbeat and data-channel RTT, and the inbound
 * video figures of the last sample. Pure view like the status panel; whether it is shown is
 * the controls' business (`visible`).
 */
export class StatsPanel {
  private readonly root = element("stats", HTMLElement);
  private readonly heartbeat = element("heartbeat", HTMLElement);
  private readonly heartbeatRtt = element("heartbeat-rtt", HTMLElement);
  private readonly mediaRtt = element("media-rtt", HTMLElement);
  private readonly fps = element("stat-fps", HTMLElement);
  private readonly resolution = element("stat-resolution", HTMLElement);
  private readonly bitrate = element("stat-bitrate", HTMLElement);
  private readonly packetsLost = element("stat-packets-lost", HTMLElement);
  private readonly jitter = element("stat-jitter", HTMLElement);
  private readonly codec = element("stat-codec", HTMLElement);

  get visible(): boolean {
    return !this.root.hidden;
  }

  set visible(shown: boolean) {
    this.root.hidden = !shown;
  }

  /** Fills in the figures, shown or not: tests and screen readers may read them either way. */
  render(s: PlayerView): void {
    const hb = s.config?.heartbeat;
    setText(
      this.heartbeat,
      hb ? `every ${formatSeconds(hb.intervalMs)}, timeout ${formatSeconds(hb.timeoutMs)}` : "—",
    );
    setText(this.heartbeatRtt, formatMs(s.heartbeatRttMs));
    setText(this.mediaRtt, formatMs(s.mediaRttMs));
    const stats = s.receiveStats;
    const video = s.videoFigures;
    setText(this.fps, formatFps(stats?.fps ?? null));
    setText(this.resolution, formatResolution(video?.width ?? null, video?.height ?? null));
    setText(this.bitrate, formatBitrate(video?.bitrateKbps ?? null));
    setText(this.packetsLost, stats === null ? "—" : String(stats.packetsLost));
    setText(this.jitter, stats === null ? "—" : `${stats.jitterMs.toFixed(1)} ms`);
    setText(this.codec, formatCodec(video?.codec ?? null));
  }
}
