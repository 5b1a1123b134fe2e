/** The Node-RED editor in Debian's headless Chromium, through playwright-core (which brings no browser). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { SimulatorOptions } from '../../lib/simulator';
import { skipWith } from '../support/shared';
import { OUTPUT_DIR, simulatorDeviceNode, useSimulatorAndNodeRed, type SimulatorAndNodeRed } from './node-red-process';

export const CHROMIUM = '/usr/bin/chromium';
/** Node-RED settings for editor specs: the welcome tour would cover the workspace and swallow the clicks. */
export const NO_WELCOME_TOUR = ['-D', 'editorTheme.tours=false'];

/** Skips the suite where Chromium is not installed (CI installs it). */
export function skipWithoutChromium(ctx: Mocha.Context): void {
  if (!fs.existsSync(CHROMIUM)) skipWith(ctx, `skipped: ${CHROMIUM} is missing (install it with "apt-get install -y chromium"; CI does)`);
}

export class EditorBrowser {
  /** Script errors the editor raised, so a spec can assert there were none. */
  readonly pageErrors: string[] = [];

  private constructor(private readonly context: BrowserContext, private readonly profileDir: string, readonly page: Page) {
    page.on('pageerror', (e) => this.pageErrors.push(e.message));
  }

  /** Opens the editor at `url` in a fresh profile, so nothing carries over between specs. */
  static async open(url: string): Promise<EditorBrowser> {
    const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-pw-'));
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const editor = new EditorBrowser(context, profileDir, context.pages()[0] ?? (await context.newPage()));
    // Specs save screenshots there.
    fs.mkdirSync(OUTPUT_DIR, { recursive: true });
    await editor.page.goto(url + '/');
    return editor;
  }

  async close(): Promise<void> {
    await this.context.close();
    fs.rmSync(this.profileDir, { recursive: true, force: true });
  }
}

/** Filled in by useConfigureNodeInEditor's before hooks. */
export interface ConfigureNodeInEditor extends SimulatorAndNodeRed {
  editor: EditorBrowser;
  page: Page;
}

/**
 * Hooks for an editor suite: a simulator; Node-RED showing one tab with an onvifq-configure node
 * (GetDeviceInformation) on a device config node for the simulator, with its credentials; Chromium on the editor.
 * The suite is skipped where Chromium is missing.
 */
export function useConfigureNodeInEditor(
  simOptions: SimulatorOptions & { username: string; password: string },
  ids: { tab: string; label: string; device: string; configure: string },
): ConfigureNodeInEditor {
  before(function () {
    skipWithoutChromium(this);
  });
  let editor: EditorBrowser | undefined;
  // After hooks run in the order registered: this one before the servers', so the browser closes first.
  after(() => editor?.close());
  const env = useSimulatorAndNodeRed(simOptions, NO_WELCOME_TOUR) as ConfigureNodeInEditor;
  before(async function () {
    await env.red.deploy([
      { id: ids.tab, type: 'tab', label: ids.label },
      simulatorDeviceNode(ids.device, 'Bench camera', env.sim, { username: simOptions.username, password: simOptions.password }),
      { id: ids.configure, type: 'onvifq-configure', z: ids.tab, device: ids.device, operation: 'GetDeviceInformation', x: 300, y: 120, wires: [[]] },
    ]);
    editor = env.editor = await EditorBrowser.open(env.red.url);
    env.page = editor.page;
  });
  return env;
}
