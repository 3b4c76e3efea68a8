/**
 * Makes the stream object reachable as `window.pixelStreaming`, as Epic's reference page does,
 * so tests (and people in the console) can listen to its events: `webRtcConnected`,
 * `playStream`, `webRtcDisconnected`, …
 */
export function exposeStream(stream: object): void {
  Object.assign(window, { pixelStreaming: stream });
}
