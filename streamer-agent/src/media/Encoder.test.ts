import { describe, expect, it, vi } from "vitest";
import { pino } from "pino";
import { Encoder, EncoderUnavailableError, type EncoderSettings } from "./Encoder.js";
import { ffmpegArgs } from "./ffmpegArgs.js";

const logger = pino({ level: "silent" });
const settings: EncoderSettings = {
  source: { kind: "testpattern" },
  codec: "vp8",
  width: 160,
  height: 90,
  fps: 15,
  bitrateKbps: 100,
  keyframeIntervalFrames: 15,
  label: "test",
};

describe("Encoder", () => {
  it("says how to install ffmpeg when it is missing", async () => {
    const errors: EncoderUnavailableError[] = [];
    const encoder = new Encoder({
      settings,
      logger,
      onPacket: () => undefined,
      onFatal: (error) => errors.push(error),
      ffmpegPath: "/nonexistent/ffmpeg",
    });
    await encoder.start();
    await vi.waitFor(() => {
      expect(errors, "the fatal error").not.toHaveLength(0);
    }, 10_000);
    expect(errors[0]).toBeInstanceOf(EncoderUnavailableError);
    expect(errors[0]?.message).toContain("apt-get install -y ffmpeg");
    await encoder.stop();
  });

  it("restarts ffmpeg when it dies, continuing the RTP sequence, and stops it for good on stop()", async () => {
    let packets = 0;
    const sequence: number[] = [];
    const encoder = new Encoder({
      settings,
      logger,
      onPacket: (packet) => {
        packets += 1;
        sequence.push(packet.readUInt16BE(2));
      },
    });
    await encoder.start();
    try {
      await vi.waitFor(() => {
        expect(packets, "packets from the first ffmpeg").toBeGreaterThan(5);
      }, 10_000);
      const firstPid = encoder.pid;
      if (firstPid === undefined) throw new Error("no ffmpeg pid");
      process.kill(firstPid, "SIGKILL");
      await vi.waitFor(() => {
        expect(encoder.pid !== undefined && encoder.pid !== firstPid, "a new ffmpeg").toBe(true);
      }, 10_000);
      const before = packets;
      await vi.waitFor(() => {
        expect(packets, "packets from the second ffmpeg").toBeGreaterThan(before + 5);
      }, 10_000);
    } finally {
      await encoder.stop();
      await encoder.stop(); // idempotent
    }
    expect(encoder.pid).toBeUndefined();
    // One continuous RTP stream across the restart, or a browser's jitter buffer stalls for good.
    const gaps = sequence.slice(1).filter((seq, i) => seq !== (((sequence[i] ?? 0) + 1) & 0xffff));
    expect(gaps).toEqual([]);
  });

  it("burns the id, frame counter and clock into the test pattern only", () => {
    const args = ffmpegArgs(settings, 40000).join(" ");
    expect(args).toContain("-f lavfi -i testsrc2=size=160x90:rate=15");
    expect(args).toContain("drawtext=");
    expect(args).toContain("test  frame %{frame_num}");
  });

  it("loops a media file at its own pace, and fits any source to the size and rate", () => {
    const args = ffmpegArgs({ ...settings, source: { kind: "file", path: "/media/clip one.mp4" } }, 40000);
    const vf = args[args.indexOf("-vf") + 1];
    expect(args.slice(args.indexOf("-stream_loop"), args.indexOf("-i") + 2)).toEqual([
      "-stream_loop",
      "-1",
      "-re",
      "-i",
      "/media/clip one.mp4",
    ]);
    expect(vf).toBe(
      "scale=160:90:force_original_aspect_ratio=decrease,pad=160:90:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=15,format=yuv420p",
    );
    expect(vf).not.toContain("drawtext");
  });

  it("passes an ffmpeg input spec through as arguments, before the same fit and encoder flags", () => {
    const source = { kind: "ffmpeg" as const, args: ["-f", "v4l2", "-i", "/dev/video0"] };
    const args = ffmpegArgs({ ...settings, source }, 40000);
    expect(args.slice(args.indexOf("-f"), args.indexOf("-f") + 4)).toEqual(source.args);
    expect(args).not.toContain("-re");
    expect(args[args.indexOf("-vf") + 1]).toContain("fps=15");
    expect(args).toContain("libvpx");
  });

  it("asks for the configured keyframe interval and an RTP port on loopback", () => {
    const args = ffmpegArgs({ ...settings, codec: "h264", keyframeIntervalFrames: 30 }, 40000);
    expect(args.join(" ")).toContain("-g 30");
    expect(args.join(" ")).toContain("-profile:v baseline");
    expect(args.at(-1)).toBe("rtp://127.0.0.1:40000?pkt_size=1200&rtcpport=40000");
  });
});
