/**
 * Draws a DashboardSnapshot: summary counts, the sessions table (one row per session, kept
 * across snapshots so each RTT sparkline lives on), the streamers and the endings log. Text
 * goes in through textContent only; ids come from peers.
 */
import type { DashboardSnapshot, SessionEnding, SessionView, StreamerView } from "@heartline/shared/admin";
import { clockTime, formatAge, formatMs, shortId } from "./format.js";
import { Sparkline } from "./sparkline.js";

const STATE_COLORS: Record<string, string> = {
  live: "#36c275",
  stale: "#f0b429",
  connecting: "#8fa3bf",
};

/** What the operator can ask for; resolves to an error sentence, or undefined when done. */
export interface DashboardActions {
  endSession(sessionId: string): Promise<string | undefined>;
  disconnectStreamer(streamerId: string): Promise<string | undefined>;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; title?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className !== undefined) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title !== undefined) node.title = props.title;
  node.append(...children);
  return node;
}

function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from dashboard.html`);
  return node;
}

/**
 * A button that asks once more before acting: the first click arms it ("Sure?"), a second
 * within three seconds acts. No blocking dialogs.
 */
function confirmButton(label: string, action: () => Promise<string | undefined>): HTMLButtonElement {
  const button = el("button", { className: "danger", text: label });
  button.type = "button";
  let disarm: ReturnType<typeof setTimeout> | undefined;
  button.addEventListener("click", () => {
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = "Sure?";
      disarm = setTimeout(() => {
        delete button.dataset.armed;
        button.textContent = label;
      }, 3000);
      return;
    }
    clearTimeout(disarm);
    button.disabled = true;
    button.textContent = "…";
    void action().then((error) => {
      if (error === undefined) return;
      button.disabled = false;
      delete button.dataset.armed;
      button.textContent = label;
      button.title = error;
    });
  });
  return button;
}

interface SessionRow {
  row: HTMLTableRowElement;
  state: HTMLElement;
  age: HTMLElement;
  rtt: HTMLElement;
  mediaRtt: HTMLElement;
  sparkline: Sparkline;
  color: string;
}

export class DashboardView {
  readonly #rows = new Map<string, SessionRow>();
  readonly #actions: DashboardActions;
  readonly #sessionsBody = (byId("sessions") as HTMLTableElement).tBodies[0] as HTMLTableSectionElement;

  constructor(actions: DashboardActions) {
    this.#actions = actions;
  }

  render(snapshot: DashboardSnapshot): void {
    const { sessions, streamers, endings, heartbeat } = snapshot;
    byId("heartbeat-settings").textContent =
      `heartbeat ${formatMs(heartbeat.intervalMs)} · timeout ${formatMs(heartbeat.timeoutMs)}`;
    byId("count-streamers").textContent = String(streamers.length);
    byId("count-sessions").textContent = String(sessions.length);
    for (const state of ["live", "stale", "connecting"] as const) {
      byId(`count-${state}`).textContent = String(sessions.filter((s) => s.state === state).length);
    }
    this.#renderSessions(snapshot);
    this.#renderStreamers(streamers);
    this.#renderEndings(endings);
  }

  #renderSessions({ sessions }: DashboardSnapshot): void {
    const seen = new Set<string>();
    for (const session of sessions) {
      seen.add(session.id);
      let row = this.#rows.get(session.id);
      if (!row) {
        row = this.#sessionRow(session);
        this.#rows.set(session.id, row);
      }
      // Keep the table in the snapshot's order (oldest first).
      this.#sessionsBody.append(row.row);
      row.row.dataset.state = session.state;
      row.row.dataset.media = session.media ?? "";
      row.state.replaceChildren(
        el("span", { className: `badge ${session.state}`, text: session.state }),
        ...(session.late ? [el("span", { className: "late", text: `${session.late} late` })] : []),
        ...(session.media === "stalled" ? [el("span", { className: "late", text: "no video" })] : []),
      );
      row.age.textContent = formatAge(session.ageMs);
      row.rtt.textContent = formatMs(session.heartbeat.rttMs);
      row.mediaRtt.textContent = formatMs(session.heartbeat.mediaRttMs);
      const color = STATE_COLORS[session.state] ?? "#8fa3bf";
      if (color !== row.color) {
        row.sparkline.setColor(color);
        row.color = color;
      }
      row.sparkline.update(session.rtt);
    }
    for (const [id, row] of this.#rows) {
      if (seen.has(id)) continue;
      row.sparkline.destroy();
      row.row.remove();
      this.#rows.delete(id);
    }
    byId("no-sessions").hidden = sessions.length > 0;
  }

  #sessionRow({ id: sessionId, streamerId, playerId, elsewhere, protocol }: SessionView): SessionRow {
    // Multi-node: the end on another hub says which.
    const on = (end: "streamer" | "player"): string =>
      elsewhere?.end === end ? ` · on ${elsewhere.nodeId}` : "";
    const state = el("td", { className: "state" });
    const age = el("td", { className: "age num" });
    const rtt = el("span", { className: "rtt-value num" });
    const chart = el("div", { className: "sparkline" });
    const mediaRtt = el("td", { className: "media-rtt num" });
    const row = el(
      "tr",
      {},
      el("td", { className: "id mono", text: shortId(sessionId), title: sessionId }),
      el("td", {
        className: "streamer",
        text: `${streamerId}${on("streamer")}${protocol === "pixelstreaming" ? " · Pixel Streaming" : ""}`,
      }),
      el("td", { className: "player mono", text: `${shortId(playerId)}${on("player")}`, title: playerId }),
      state,
      age,
      el("td", { className: "rtt" }, el("div", { className: "rtt-cell" }, rtt, chart)),
      mediaRtt,
      el(
        "td",
        { className: "actions" },
        confirmButton("End", () => this.#actions.endSession(sessionId)),
      ),
    );
    row.dataset.sessionId = sessionId;
    const color = STATE_COLORS.connecting ?? "#8fa3bf";
    return { row, state, age, rtt, mediaRtt, sparkline: new Sparkline(chart, color), color };
  }

  #renderStreamers(streamers: StreamerView[]): void {
    const list = byId("streamers");
    list.replaceChildren(
      ...streamers.map((streamer) => {
        const item = el(
          "li",
          { className: streamer.away ? "away" : "" },
          el(
            "div",
            { className: "who" },
            el("span", { className: `dot ${streamer.away ? "away" : "on"}` }),
            el("span", { className: "name", text: streamer.streamerId }),
          ),
          el("span", {
            className: "muted",
            text: streamer.away
              ? "away (may resume)"
              : `${streamer.players} player${streamer.players === 1 ? "" : "s"}`,
          }),
          confirmButton("Disconnect", () => this.#actions.disconnectStreamer(streamer.streamerId)),
        );
        item.dataset.streamerId = streamer.streamerId;
        return item;
      }),
    );
    byId("no-streamers").hidden = streamers.length > 0;
  }

  #renderEndings(endings: SessionEnding[]): void {
    const list = byId("endings");
    list.replaceChildren(
      ...endings.map((ending) => {
        const item = el(
          "li",
          {},
          el("time", { className: "mono muted", text: clockTime(ending.endedAt), title: ending.endedAt }),
          el("span", { className: `reason ${ending.reason}`, text: ending.reason }),
          el(
            "span",
            { className: "detail" },
            el("span", { className: "name", text: ending.streamerId }),
            el("span", {
              className: "muted",
              text: ` · ${shortId(ending.sessionId)} · after ${formatAge(ending.ageMs)}`,
              title: ending.sessionId,
            }),
          ),
        );
        item.dataset.sessionId = ending.sessionId;
        item.dataset.reason = ending.reason;
        return item;
      }),
    );
    byId("no-endings").hidden = endings.length > 0;
  }
}
