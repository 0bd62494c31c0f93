import { css, html, nothing } from "lit";
import type { BatchStatus, JobStatus } from "./api.js";
import { duration, isFinal, STATUSES, toRfc3339, when, whyWaiting } from "./format.js";
import { shared } from "./styles.js";
import { api, View } from "./view.js";

interface Filters {
  status: string;
  project: string;
  batchId: string;
  createdAfter: string;
  createdBefore: string;
}

const PAGE_SIZE = 25;

/**
 * Batches or single jobs, newest first, with the listing API's filters (status, project, batchId,
 * created time) and its X-Next-Token paging. Reloads while it is open, so new items and status changes
 * show up.
 */
export class ListView extends View {
  static override properties = {
    kind: {},
    items: { state: true },
    filters: { state: true },
    tokens: { state: true },
    nextToken: { state: true },
  };
  kind: "batches" | "jobs" = "batches";
  items: (BatchStatus | JobStatus)[] | undefined;
  filters: Filters = { status: "", project: "", batchId: "", createdAfter: "", createdBefore: "" };
  /** Tokens of the pages before the current one ("" for the first), to go back. */
  tokens: string[] = [];
  nextToken: string | undefined;
  protected override everyMs = 3000;

  static override styles = [
    shared,
    css`
      form {
        display: flex;
        gap: 0.6rem;
        flex-wrap: wrap;
        align-items: end;
        margin-bottom: 0.8rem;
      }
      label {
        display: flex;
        flex-direction: column;
        font-size: 12px;
        color: #555e6e;
      }
    `,
  ];

  protected override async refresh() {
    const page = await api.list<BatchStatus | JobStatus>(this.kind, {
      limit: PAGE_SIZE,
      status: this.filters.status,
      project: this.filters.project,
      batchId: this.filters.batchId,
      createdAfter: toRfc3339(this.filters.createdAfter),
      createdBefore: toRfc3339(this.filters.createdBefore),
      nextToken: this.tokens.at(-1) || undefined,
    });
    this.items = page.items;
    this.nextToken = page.nextToken;
  }

  private filter(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const value = (name: keyof Filters) => String(form.get(name) ?? "").trim();
    this.filters = {
      status: value("status"),
      project: value("project"),
      batchId: value("batchId"),
      createdAfter: value("createdAfter"),
      createdBefore: value("createdBefore"),
    };
    this.tokens = [];
    void this.reload();
  }

  private page(direction: 1 | -1) {
    this.tokens = direction === 1 ? [...this.tokens, this.nextToken ?? ""] : this.tokens.slice(0, -1);
    void this.reload();
  }

  override render() {
    const f = this.filters;
    return html`<form @submit=${this.filter}>
        <label
          >Status
          <select name="status">
            <option value="">any</option>
            <option value="Failed,Stopped,DeadlineExceeded" ?selected=${f.status.includes(",")}>
              ended unsuccessfully
            </option>
            ${STATUSES.map((s) => html`<option ?selected=${f.status === s}>${s}</option>`)}
          </select></label
        >
        <label>Project <input name="project" .value=${f.project} size="12" /></label>
        <label>Batch id <input name="batchId" .value=${f.batchId} size="12" /></label>
        <label
          >Created after <input type="datetime-local" name="createdAfter" .value=${f.createdAfter}
        /></label>
        <label
          >Created before <input type="datetime-local" name="createdBefore" .value=${f.createdBefore}
        /></label>
        <button type="submit">Apply</button>
      </form>
      ${
        this.items === undefined
          ? html`<p class="muted">Loading…</p>`
          : this.items.length === 0
            ? html`<p class="muted">No ${this.kind === "batches" ? "batches" : "single jobs"} match.</p>`
            : this.kind === "batches"
              ? this.batchTable(this.items as BatchStatus[])
              : this.jobTable(this.items as JobStatus[])
      }
      <div class="row">
        <button ?disabled=${this.tokens.length === 0} @click=${() => this.page(-1)}>← Newer</button>
        <span class="muted">page ${this.tokens.length + 1}</span>
        <button ?disabled=${!this.nextToken} @click=${() => this.page(1)}>Older →</button>
      </div>`;
  }

  private batchTable(batches: BatchStatus[]) {
    return html`<table>
      <thead>
        <tr>
          <th>Batch</th>
          <th>Batch id</th>
          <th>Status</th>
          <th>Progress</th>
          <th>Project</th>
          <th>Created</th>
          <th>By</th>
        </tr>
      </thead>
      <tbody>
        ${batches.map(
          (b) => html`<tr data-name=${b.name}>
            <td><a href="#/batches/${b.name}"><code>${b.name}</code></a></td>
            <td>${b.batchId ?? ""}</td>
            <td><span class="badge ${b.status}">${b.status}</span></td>
            <td><js-progress .counts=${b.jobCounts ?? {}} total=${b.totalJobs ?? 0}></js-progress></td>
            <td>${b.project ?? ""}</td>
            <td>${when(b.created)}</td>
            <td class="muted">${b.submittedBy ?? ""}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private jobTable(jobs: JobStatus[]) {
    return html`<table>
      <thead>
        <tr>
          <th>Job</th>
          <th>Job id</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Exit code</th>
          <th>Duration</th>
          <th>Why waiting</th>
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        ${jobs.map(
          (j) => html`<tr data-name=${j.name}>
            <td><a href="#/jobs/${j.name}"><code>${j.name}</code></a></td>
            <td>${j.jobId ?? ""}</td>
            <td><span class="badge ${j.status}">${j.status}</span></td>
            <td>${j.podStatuses.length}</td>
            <td>${j.exitCode ?? nothing}</td>
            <td>${isFinal(j.status) || j.started ? duration(j.phaseSeconds?.running) : ""}</td>
            <td class="muted">${whyWaiting(j)}</td>
            <td>${when(j.created)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}
customElements.define("js-list", ListView);
