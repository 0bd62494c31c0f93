import { css, html } from "lit";
import { shared } from "./styles.js";
import { api, View } from "./view.js";

/** The most lines kept on the page; older ones are dropped (the CLI reads a whole log). */
const MAX_LINES = 5000;
const TAIL = 500;

/**
 * A job's output: the last lines first (tail), then every new line as the job prints it (follow), by
 * polling GET /jobs/{name}/logs/follow with the cursor of the previous answer until the job has ended
 * and nothing is left. Without `attempt` it moves on to later attempts (retries, restarts).
 */
export class LogView extends View {
  static override properties = {
    name: {},
    attempt: { type: Number },
    lines: { state: true },
    shownAttempt: { state: true },
    final: { state: true },
  };
  name = "";
  attempt: number | undefined;
  lines: string[] = [];
  shownAttempt: number | null = null;
  final = false;
  private cursor: string | undefined;
  protected override everyMs = 1000;

  static override styles = [
    shared,
    css`
      pre {
        background: #10141c;
        color: #d9dee7;
        padding: 0.6rem;
        max-height: 28rem;
        overflow: auto;
        font-size: 12px;
        margin: 0.3rem 0;
        min-height: 3rem;
      }
    `,
  ];

  protected override async refresh() {
    const { body } = await api.logs(this.name, {
      cursor: this.cursor,
      tail: this.cursor === undefined ? TAIL : undefined,
      attempt: this.attempt,
    });
    if (body.attempt !== null && body.attempt !== this.shownAttempt && this.shownAttempt !== null) {
      this.lines = [...this.lines, `── attempt ${body.attempt} ──`];
    }
    if (body.attempt !== null) this.shownAttempt = body.attempt;
    this.cursor = body.cursor;
    this.final = body.final;
    if (body.lines.length > 0) this.lines = [...this.lines, ...body.lines].slice(-MAX_LINES);
  }

  protected override live() {
    return !this.final;
  }

  override updated() {
    const pre = this.renderRoot.querySelector("pre");
    if (pre && !this.final) pre.scrollTop = pre.scrollHeight;
  }

  override render() {
    const which = this.shownAttempt === null ? "" : `attempt ${this.shownAttempt} · `;
    const state = this.final ? "ended" : "following…";
    return html`<div class="muted" id="log-state">${which}${this.lines.length} lines · ${state}</div>
      <pre id="log">${this.lines.join("\n")}</pre>`;
  }
}
customElements.define("js-log", LogView);
