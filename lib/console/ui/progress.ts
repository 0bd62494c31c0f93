import { css, html, LitElement } from "lit";
import { BAR_ORDER } from "./format.js";

const COLORS: Record<string, string> = {
  Succeeded: "#2f9e55",
  Failed: "#d64035",
  DeadlineExceeded: "#a2261d",
  Stopped: "#d6a03a",
  Stopping: "#ecc77a",
  Running: "#3b7dd8",
  Active: "#8db5ea",
};

/**
 * A batch's progress: one bar with a segment per status (ended first, then running), the rest waiting.
 * `aria-valuenow` is the number of ended jobs out of `aria-valuemax`.
 */
export class ProgressBar extends LitElement {
  static override properties = { counts: { attribute: false }, total: { type: Number } };
  counts: Record<string, number> = {};
  total = 0;

  static override styles = css`
    :host {
      display: inline-flex;
      align-items: center;
      gap: 0.5rem;
      min-width: 14rem;
    }
    .bar {
      flex: 1;
      display: flex;
      height: 10px;
      border-radius: 5px;
      overflow: hidden;
      background: #e3e6eb;
      min-width: 8rem;
    }
    .label {
      font-size: 12px;
      color: #555e6e;
      white-space: nowrap;
    }
  `;

  override render() {
    const total = Math.max(this.total, 1);
    const ended = ["Succeeded", "Failed", "DeadlineExceeded", "Stopped"].reduce(
      (sum, status) => sum + (this.counts[status] ?? 0),
      0,
    );
    const segments = BAR_ORDER.filter((status) => (this.counts[status] ?? 0) > 0);
    return html`<div
        class="bar"
        role="progressbar"
        aria-valuemin="0"
        aria-valuemax=${this.total}
        aria-valuenow=${ended}
        title=${Object.entries(this.counts)
          .map(([status, n]) => `${status} ${n}`)
          .join(", ")}
      >
        ${segments.map(
          (status) =>
            html`<span
              data-status=${status}
              style="width:${(100 * (this.counts[status] ?? 0)) / total}%;background:${COLORS[status]}"
            ></span>`,
        )}
      </div>
      <span class="label">${ended}/${this.total}</span>`;
  }
}
customElements.define("js-progress", ProgressBar);
