import { LitElement } from "lit";
import { Api, ApiError } from "./api.js";

/** One Api for the page, so every view sends the same token. */
export const api = new Api();

export interface Notice {
  message: string;
  error: boolean;
}

/**
 * A view that reloads itself while what it shows can still change: `refresh` runs on connect and then
 * every `everyMs` while `live()` says so; the timer stops when the view leaves the page.
 */
export abstract class View extends LitElement {
  protected everyMs = 2000;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loading: Promise<void> | undefined;

  protected abstract refresh(): Promise<void>;
  /** Whether to keep reloading (something shown has not ended). */
  protected live(): boolean {
    return true;
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.reload();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Loads now (after any load in flight) and schedules the next load while live. */
  async reload(): Promise<void> {
    clearTimeout(this.timer);
    await this.loading;
    this.loading = this.refresh()
      .catch((error) => this.notify(error))
      .finally(() => {
        this.loading = undefined;
        if (this.isConnected && this.live()) this.timer = setTimeout(() => void this.reload(), this.everyMs);
      });
    await this.loading;
  }

  /** Shows a message in the console's banner (errors carry the API's Status message). */
  notify(what: unknown, error = true) {
    const message =
      what instanceof ApiError
        ? `${what.status}: ${what.message}`
        : what instanceof Error
          ? what.message
          : String(what);
    this.dispatchEvent(
      new CustomEvent<Notice>("notice", { detail: { message, error }, bubbles: true, composed: true }),
    );
  }

  /** Runs a stop or restart, reports its answer, and reloads. */
  protected async act(run: () => Promise<{ body: unknown }>, done: string) {
    try {
      const { body } = await run();
      const message = (body as { message?: string })?.message;
      this.notify(message && (body as { status?: string }).status === "Success" ? message : done, false);
    } catch (error) {
      this.notify(error);
    }
    await this.reload();
  }
}
