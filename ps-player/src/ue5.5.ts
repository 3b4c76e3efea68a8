/**
 * Epic's stock Pixel Streaming player (frontend + UI libraries for UE5.5, from npm), as Epic's
 * reference page builds it. Settings come from the URL (`?ss=<signalling url>`,
 * `?StreamerId=<id>`, `?AutoPlayVideo=false`, …); without `?ss=` the frontend connects to
 * `ws(s)://<this page's host and port>/`, which is the hub's Pixel Streaming player endpoint.
 */
import { Config, Logger, LogLevel, PixelStreaming } from "@epicgames-ps/lib-pixelstreamingfrontend-ue5.5";
import {
  Application,
  PixelStreamingApplicationStyle,
} from "@epicgames-ps/lib-pixelstreamingfrontend-ui-ue5.5";
import { exposeStream } from "./exposeStream.js";

const style = new PixelStreamingApplicationStyle();
style.applyStyleSheet();
Logger.InitLogging(LogLevel.Warning, true);

const stream = new PixelStreaming(new Config({ useUrlParams: true }));
const application = new Application({
  stream,
  onColorModeChanged: (isLightMode) => {
    style.setColorMode(isLightMode);
  },
});
document.body.appendChild(application.rootElement);
exposeStream(stream);
