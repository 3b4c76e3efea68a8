/**
 * Integration: the hub's whole-process behaviour: TLS, graceful shutdown, and that nothing
 * unhandled goes unseen.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { selfSignedCertificate } from "@heartline/shared/testing";
import { startHub, TestPeer, type TestHub } from "./testing/harness.js";

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe("TLS", () => {
  it("serves HTTPS and WSS on its port when tls.cert and tls.key are set", async () => {
    const tls = selfSignedCertificate();
    hub = await startHub({ tls });
    expect(hub.url).toMatch(/^https:\/\//);
    const config = await new Promise<unknown>((resolve, reject) => {
      const socket = io(hub?.url ?? "", {
        transports: ["websocket"],
        auth: { role: "player" },
        rejectUnauthorized: false, // self-signed in the test only
        reconnection: false,
        forceNew: true,
      });
      socket.on("message", (message: { type: string }) => {
        if (message.type === "config") {
          socket.disconnect();
          resolve(message);
        }
      });
      socket.on("connect_error", reject);
    });
    expect(config).toMatchObject({ type: "config", protocolVersion: 1 });
  });
});

describe("shutdown", () => {
  it("ends every session with hub-shutdown on both ends before closing", async () => {
    hub = await startHub();
    const { s, p, sessionId } = await hub.session("cam1");
    const closing = hub.hub.close(); // the hub's own shutdown, with the clients still connected
    hub = undefined;
    expect(await s.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "hub-shutdown",
    });
    expect(await p.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "hub-shutdown",
    });
    await closing;
    s.close();
    p.close();
  });

  it("the hub process tells its peers hub-shutdown on SIGTERM and exits 0", async () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "server/src/main.ts", "--port", "0", "--auth-open", "true"],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let buffered = "";
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const match = /"url":"([^"]+)"/.exec(buffered);
        if (match?.[1]) resolve(match[1]);
      });
      child.once("exit", () => {
        reject(new Error("hub exited before listening"));
      });
    });
    const s = await TestPeer.connect(url, { role: "streamer", streamerId: "cam1" });
    const p = await TestPeer.connect(url, { role: "player" });
    p.send({ type: "subscribe", streamerId: "cam1" });
    const { sessionId } = await p.next("sessionStarted");
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => {
        resolve(code);
      }),
    );
    child.kill("SIGTERM");
    expect(await p.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "hub-shutdown",
    });
    expect(await s.next("sessionClosed")).toMatchObject({ reason: "hub-shutdown" });
    expect(await exited).toBe(0);
    s.close();
    p.close();
  });
});

describe("process errors", () => {
  it("are counted in /metrics (heartline_process_errors_total) from the start", async () => {
    hub = await startHub();
    hub.hub.metrics.processError("unhandled-rejection");
    const text = await (await fetch(`${hub.url}/metrics`)).text();
    expect(text).toContain('heartline_process_errors_total{kind="unhandled-rejection"} 1');
    expect(text).toContain('heartline_process_errors_total{kind="uncaught-exception"} 0');
  });
});

describe("answer before subscribe", () => {
  it("is refused with session-not-found and changes nothing", async () => {
    hub = await startHub();
    await hub.streamer("cam1");
    const p = await hub.player();
    p.send({ type: "answer", sessionId: "made-up-session", sdp: "v=0" });
    expect(await p.next("error")).toMatchObject({ code: "session-not-found", sessionId: "made-up-session" });
    expect(hub.hub.registry.sessionCount).toBe(0);
    p.send({ type: "subscribe", streamerId: "cam1" });
    await p.next("sessionStarted");
  });
});
