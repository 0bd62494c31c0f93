import { css, html, LitElement, nothing } from "lit";
import { keyed } from "lit/directives/keyed.js";
import { shared } from "./styles.js";
import { api, type Notice } from "./view.js";

type Route =
  | { view: "list"; kind: "batches" | "jobs" }
  | { view: "batch"; name: string }
  | { view: "job"; name: string };

/** `#/batches`, `#/jobs`, `#/batches/<name>`, `#/jobs/<name>`: the page's own routes (no server paths). */
export function parseRoute(hash: string): Route {
  const [, kind, name] = hash.replace(/^#/, "").split("/");
  const decoded = name ? decodeURIComponent(name) : "";
  if (kind === "jobs") return decoded ? { view: "job", name: decoded } : { view: "list", kind: "jobs" };
  return decoded ? { view: "batch", name: decoded } : { view: "list", kind: "batches" };
}

/** The console: a header with the two lists and the token field, the routed view, and a notice banner. */
export class ConsoleApp extends LitElement {
  static override properties = {
    route: { state: true },
    notice: { state: true },
    generation: { state: true },
  };
  route: Route = parseRoute(location.hash);
  /** Bumped when the token changes: every view is made anew and loads again. */
  generation = 0;
  notice: Notice | undefined;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onHash = () => {
    this.route = parseRoute(location.hash);
    this.notice = undefined;
  };

  static override styles = [
    shared,
    css`
      header {
        display: flex;
        align-items: center;
        gap: 1.2rem;
        padding: 0.6rem 1rem;
        background: #1d2330;
        color: #fff;
      }
      header a {
        color: #cfd8e8;
        text-decoration: none;
      }
      header a.here {
        color: #fff;
        font-weight: 600;
      }
      header .grow {
        flex: 1;
      }
      header input {
        width: 10rem;
      }
      main {
        padding: 0.6rem 1rem;
      }
      .notice {
        margin: 0.6rem 1rem 0;
        padding: 0.4rem 0.7rem;
        border-radius: 4px;
        background: #d6e6fb;
      }
      .notice.error {
        background: #fbdad7;
      }
    `,
  ];

  override connectedCallback() {
    super.connectedCallback();
    window.addEventListener("hashchange", this.onHash);
    this.addEventListener("notice", (event) => {
      this.notice = (event as CustomEvent<Notice>).detail;
      clearTimeout(this.noticeTimer);
      this.noticeTimer = setTimeout(() => {
        this.notice = undefined;
      }, 8000);
    });
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    window.removeEventListener("hashchange", this.onHash);
  }

  private setToken(event: Event) {
    api.token = (event.target as HTMLInputElement).value.trim();
    this.generation++;
  }

  override render() {
    const r = this.route;
    const inJobs = r.view === "list" && r.kind === "jobs";
    const inBatches = (r.view === "list" && r.kind === "batches") || r.view === "batch";
    return html`<header>
        <strong>Job scheduler</strong>
        <a href="#/batches" class=${inBatches ? "here" : ""}>Batches</a>
        <a href="#/jobs" class=${inJobs ? "here" : ""}>Single jobs</a>
        <span class="grow"></span>
        <label title="Bearer token of the local stack's auth.localTokens (kept in this browser)"
          >Token <input type="password" .value=${api.token} @change=${this.setToken}
        /></label>
      </header>
      ${
        this.notice
          ? html`<div class="notice ${this.notice.error ? "error" : ""}" role="status">${this.notice.message}</div>`
          : nothing
      }
      <main>${keyed(`${this.generation} ${JSON.stringify(r)}`, this.view(r))}</main>`;
  }

  private view(r: Route) {
    switch (r.view) {
      case "list":
        return r.kind === "batches"
          ? html`<js-list kind="batches"></js-list>`
          : html`<js-list kind="jobs"></js-list>`;
      case "batch":
        return html`<js-batch name=${r.name}></js-batch>`;
      case "job":
        return html`<js-job name=${r.name}></js-job>`;
    }
  }
}
customElements.define("js-console", ConsoleApp);
