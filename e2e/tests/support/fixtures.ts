/**
 * The `procs` fixture: starts the real hub and agents for one test and always stops them after
 * it (agents first, so their logs stay clean), even when the test fails.
 */
import { test as base, type Page } from "@playwright/test";
import { openPlayer, waitForState } from "./player.js";
import { startAgent, startHub, type HubProcess, type Managed } from "./processes.js";

export class Processes {
  readonly #hubs: HubProcess[] = [];
  readonly #agents: Managed[] = [];

  async hub(args: string[] = []): Promise<HubProcess> {
    const hub = await startHub(args);
    this.#hubs.push(hub);
    return hub;
  }

  async agent(hubUrl: string, streamerId: string, args: string[] = []): Promise<Managed> {
    const agent = await startAgent(hubUrl, streamerId, args);
    this.#agents.push(agent);
    return agent;
  }

  /** A hub, one agent streaming as `streamerId`, and `page` playing it live. */
  async watch(
    page: Page,
    streamerId: string,
    hubArgs: string[] = [],
  ): Promise<{ hub: HubProcess; agent: Managed }> {
    const hub = await this.hub(hubArgs);
    const agent = await this.agent(hub.url, streamerId);
    await openPlayer(page, hub.url, streamerId);
    await waitForState(page, "live");
    return { hub, agent };
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#agents.splice(0).map((agent) => agent.stop()));
    await Promise.all(this.#hubs.splice(0).map((hub) => hub.stop()));
  }
}

export const test = base.extend<{ procs: Processes }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright fixtures take their dependencies by destructuring
  procs: async ({}, use) => {
    const procs = new Processes();
    await use(procs);
    await procs.stopAll();
  },
});

export { expect } from "@playwright/test";
