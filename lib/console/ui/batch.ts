import { css, html, nothing } from "lit";
import type { BatchStatus, JobStatus } from "./api.js";
import { BAR_ORDER, duration, isFinal, shortJobName, when, whyWaiting } from "./format.js";
import { shared } from "./styles.js";
import { api, View } from "./view.js";

const PAGE_SIZE = 50;

/**
 * One batch: status, counts by status and a progress bar, reloaded while it runs; its jobs as a table
 * paged by the API (GET /batches/{name}?limit&nextToken), so a 10,000-job batch is read a page at a
 * time; stop and restart buttons.
 */
export class BatchView extends View {
  static override properties = { name: {}, batch: { state: true }, tokens: { state: true } };
  name = "";
  batch: BatchStatus | undefined;
  /** nextTokens of the pages before the current one ("" for the first). */
  tokens: string[] = [];
  static override styles = [
    shared,
    css`
      js-progress {
        width: 28rem;
      }
    `,
  ];

  protected override async refresh() {
    this.batch = (await api.batch(this.name, PAGE_SIZE, this.tokens.at(-1) || undefined)).body;
  }

  protected override live() {
    return (
      !this.batch || !isFinal(this.batch.status) || this.batch.jobStatuses.some((j) => !isFinal(j.status))
    );
  }

  private page(direction: 1 | -1) {
    this.tokens = direction === 1 ? [...this.tokens, this.batch?.nextToken ?? ""] : this.tokens.slice(0, -1);
    void this.reload();
  }

  override render() {
    const b = this.batch;
    if (!b) return html`<p class="muted">Loading ${this.name}…</p>`;
    const counts = b.jobCounts ?? {};
    const ended = isFinal(b.status);
    const failures = (counts.Failed ?? 0) + (counts.Stopped ?? 0) + (counts.DeadlineExceeded ?? 0);
    return html`<h2><code>${b.name}</code> <span class="badge ${b.status}" id="status">${b.status}</span></h2>
      <div class="row">
        <js-progress .counts=${counts} total=${b.totalJobs ?? 0}></js-progress>
        <span id="counts"
          >${[...BAR_ORDER, "Waiting"]
            .filter((s) => counts[s])
            .map((s) => html`<span class="badge ${s}">${s} ${counts[s]}</span> `)}</span
        >
      </div>
      <dl>
        ${b.batchId ? html`<dt>Batch id</dt><dd>${b.batchId}</dd>` : nothing}
        ${b.project ? html`<dt>Project</dt><dd>${b.project}</dd>` : nothing}
        <dt>Created</dt><dd>${when(b.created)}</dd>
        <dt>Started</dt><dd>${when(b.started)}</dd>
        <dt>Ended</dt><dd>${when(b.ended)}</dd>
        ${b.submittedBy ? html`<dt>Submitted by</dt><dd>${b.submittedBy}</dd>` : nothing}
      </dl>
      <div class="row">
        <button class="danger" ?disabled=${ended} @click=${() => this.act(() => api.act("batches", b.name, "stop"), "Stop requested")}>
          Stop batch
        </button>
        <button ?disabled=${!ended || failures === 0} @click=${() => this.act(() => api.act("batches", b.name, "restart"), "Restarted")}>
          Restart failed jobs
        </button>
        <button ?disabled=${!ended} @click=${() => this.act(() => api.act("batches", b.name, "restart", true), "Restarted")}>
          Restart all
        </button>
      </div>
      ${this.jobTable(b.jobStatuses)}
      <div class="row">
        <button ?disabled=${this.tokens.length === 0} @click=${() => this.page(-1)}>← Previous</button>
        <span class="muted"
          >jobs ${this.tokens.length * PAGE_SIZE + 1}–${this.tokens.length * PAGE_SIZE + b.jobStatuses.length} of
          ${b.totalJobs}</span
        >
        <button ?disabled=${!b.nextToken} @click=${() => this.page(1)}>Next →</button>
      </div>`;
  }

  private jobTable(jobs: JobStatus[]) {
    return html`<table id="jobs">
      <thead>
        <tr>
          <th>Job</th>
          <th>Job id</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Exit code</th>
          <th>Duration</th>
          <th>Why waiting</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${jobs.map(
          (j) => html`<tr data-name=${j.name}>
            <td><a href="#/jobs/${j.name}"><code>${shortJobName(j.name)}</code></a></td>
            <td>${j.jobId ?? ""}</td>
            <td><span class="badge ${j.status}">${j.status}</span></td>
            <td>${j.podStatuses.length}</td>
            <td>${j.exitCode ?? nothing}</td>
            <td>${j.started ? duration(j.phaseSeconds?.running) : ""}</td>
            <td class="muted">${whyWaiting(j)}</td>
            <td>
              ${
                isFinal(j.status)
                  ? html`<button @click=${() => this.act(() => api.act("jobs", j.name, "restart"), "Restarted")}>Restart</button>`
                  : html`<button class="danger" ?disabled=${j.status === "Stopping"} @click=${() => this.act(() => api.act("jobs", j.name, "stop"), "Stop requested")}>Stop</button>`
              }
            </td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}
customElements.define("js-batch", BatchView);
