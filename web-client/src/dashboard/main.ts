/**
 * The operator dashboard (served by the hub at /dashboard): signs in to the `/admin` namespace
 * with the admin token and draws every snapshot the hub pushes.
 */
import { io, type Socket } from "socket.io-client";
import {
  ADMIN_NAMESPACE,
  type AdminActionResult,
  type AdminEmitEvents,
  type AdminListenEvents,
} from "@heartline/shared/admin";
import { tokenFromHash } from "./format.js";
import { DashboardView } from "./render.js";
import "./dashboard.css";

/** The hub's events are the dashboard's listen events, and the other way round. */
type AdminSocket = Socket<AdminEmitEvents, AdminListenEvents>;

const STORAGE_KEY = "heartline.adminToken";
const ACTION_TIMEOUT_MS = 5000;

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
const login = $("login") as HTMLFormElement;
const tokenInput = $("token") as HTMLInputElement;
const loginError = $("login-error");
const board = $("board");
const connection = $("connection");
const signOut = $("sign-out") as HTMLButtonElement;

let socket: AdminSocket | undefined;

function setConnection(state: "idle" | "connecting" | "connected" | "lost", text: string): void {
  connection.dataset.state = state;
  connection.textContent = text;
}

function showLogin(error?: string): void {
  login.hidden = false;
  board.hidden = true;
  signOut.hidden = true;
  loginError.hidden = error === undefined;
  loginError.textContent = error ?? "";
  tokenInput.focus();
}

/** Sends an operator action; resolves to an error sentence, or undefined when done. */
function act(request: { sessionId: string } | { streamerId: string }): Promise<string | undefined> {
  const current = socket;
  if (!current?.connected) return Promise.resolve("not connected to the hub");
  return new Promise((resolve) => {
    const done = (error: Error | null, result: AdminActionResult): void => {
      if (error) resolve("the hub did not answer");
      else resolve(result.ok ? undefined : result.message);
    };
    const timed = current.timeout(ACTION_TIMEOUT_MS);
    if ("sessionId" in request) timed.emit("endSession", request, done);
    else timed.emit("disconnectStreamer", request, done);
  });
}

const view = new DashboardView({
  endSession: (sessionId) => act({ sessionId }),
  disconnectStreamer: (streamerId) => act({ streamerId }),
});

function connect(token: string): void {
  socket?.disconnect();
  setConnection("connecting", "Connecting…");
  const next: AdminSocket = io(ADMIN_NAMESPACE, { transports: ["websocket"], auth: { token } });
  socket = next;
  next.on("connect", () => {
    sessionStorage.setItem(STORAGE_KEY, token);
    setConnection("connected", "Live");
    login.hidden = true;
    board.hidden = false;
    signOut.hidden = false;
  });
  next.on("snapshot", (snapshot) => {
    view.render(snapshot);
  });
  next.on("connect_error", (error) => {
    const data = (error as Error & { data?: { code?: string; message?: string } }).data;
    if (data?.code === "unauthorized" || data?.code === "admin-disabled") {
      // A refusal is final: socket.io does not retry it, and neither do we.
      sessionStorage.removeItem(STORAGE_KEY);
      setConnection("idle", "Not connected");
      showLogin(data.message ?? error.message);
      return;
    }
    setConnection("lost", "Hub unreachable; retrying…");
  });
  next.on("disconnect", (reason) => {
    if (reason === "io server disconnect") {
      sessionStorage.removeItem(STORAGE_KEY);
      setConnection("idle", "Signed out by the hub");
      showLogin("The hub closed this dashboard (its admin token changed?). Sign in again.");
    } else if (reason !== "io client disconnect") {
      setConnection("lost", "Connection lost; reconnecting…");
    }
  });
}

login.addEventListener("submit", (event) => {
  event.preventDefault();
  const token = tokenInput.value.trim();
  if (token) connect(token);
});

signOut.addEventListener("click", () => {
  sessionStorage.removeItem(STORAGE_KEY);
  socket?.disconnect();
  socket = undefined;
  setConnection("idle", "Not connected");
  showLogin();
});

// A `#token=` link signs in once; the fragment is dropped so it does not linger in history.
const fromHash = tokenFromHash(location.hash);
if (fromHash !== undefined) history.replaceState(null, "", location.pathname + location.search);
const initial = fromHash ?? sessionStorage.getItem(STORAGE_KEY) ?? undefined;
if (initial) connect(initial);
else showLogin();
