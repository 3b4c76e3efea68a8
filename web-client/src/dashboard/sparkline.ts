/**
 * A session's heartbeat RTT as a small live chart (uPlot): no axes or legend, a filled line,
 * and a dot on the latest sample. One per session row; destroyed with the row.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { RttHistory } from "@heartline/shared/admin";

const WIDTH = 150;
const HEIGHT = 34;

export class Sparkline {
  readonly #plot: uPlot;

  constructor(parent: HTMLElement, color: string) {
    this.#plot = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        pxAlign: false,
        cursor: { show: false },
        legend: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        scales: {
          x: { time: false },
          // From zero, so a flat line near the bottom reads as "fast".
          y: { range: (_u, _min, max) => [0, Math.max(max * 1.15, 10)] },
        },
        axes: [{ show: false }, { show: false }],
        series: [
          {},
          {
            stroke: color,
            width: 1.5,
            fill: `${color}26`,
            points: { show: false },
          },
        ],
      },
      [[], []],
      parent,
    );
  }

  update(history: RttHistory): void {
    // uPlot needs two points to draw a line; one sample shows as a flat line.
    const t = history.t.length === 1 ? [history.t[0] ?? 0, (history.t[0] ?? 0) + 1] : history.t;
    const y = history.rttMs.length === 1 ? [history.rttMs[0] ?? 0, history.rttMs[0] ?? 0] : history.rttMs;
    this.#plot.setData([t.map((ms) => ms / 1000), y]);
  }

  setColor(color: string): void {
    const series = this.#plot.series[1];
    if (!series) return;
    // Restyle without rebuilding: uPlot reads these on the next redraw.
    series.stroke = () => color;
    series.fill = () => `${color}26`;
    this.#plot.redraw(false, false);
  }

  destroy(): void {
    this.#plot.destroy();
  }
}
