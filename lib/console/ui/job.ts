import { html, nothing } from "lit";
import { keyed } from "lit/directives/keyed.js";
import type { JobStatus } from "./api.js";
import { duration, isFinal, when, whyWaiting } from "./format.js";
import { shared } from "./styles.js";
import { api, View } from "./view.js";

/** One job: its status, its attempts (podStatuses), its output (tail, then follow), stop and restart. */
export class JobView extends View {
  static override properties = { name: {}, job: { state: true }, logAttempt: { state: true } };
  name = "";
  job: JobStatus | undefined;
  /** The attempt whose log is shown; undefined: the latest, following later ones. */
  logAttempt: number | undefined;
  static override styles = [shared];

  protected override async refresh() {
    this.job = (await api.job(this.name)).body;
  }

  protected override live() {
    return !this.job || !isFinal(this.job.status);
  }

  override render() {
    const j = this.job;
    if (!j) return html`<p class="muted">Loading ${this.name}…</p>`;
    const why = whyWaiting(j);
    return html`<h2><code>${j.name}</code> <span class="badge ${j.status}" id="status">${j.status}</span></h2>
      <dl>
        ${
          j.batchName && j.batchName !== j.name
            ? html`<dt>Batch</dt><dd><a href="#/batches/${j.batchName}"><code>${j.batchName}</code></a></dd>`
            : nothing
        }
        ${j.jobId ? html`<dt>Job id</dt><dd>${j.jobId}</dd>` : nothing}
        ${j.message ? html`<dt>Message</dt><dd>${j.message}</dd>` : nothing}
        ${why ? html`<dt>Why waiting</dt><dd>${why}</dd>` : nothing}
        ${j.exitCode !== undefined ? html`<dt>Exit code</dt><dd>${j.exitCode}</dd>` : nothing}
        <dt>Created</dt><dd>${when(j.created)}</dd>
        <dt>Started</dt><dd>${when(j.started)}</dd>
        <dt>Ended</dt><dd>${when(j.ended)}</dd>
        <dt>Waited / ran</dt><dd>${duration(j.phaseSeconds?.waiting)} / ${duration(j.phaseSeconds?.running)}</dd>
        ${j.project ? html`<dt>Project</dt><dd>${j.project}</dd>` : nothing}
        ${j.priority !== undefined ? html`<dt>Priority</dt><dd>${j.priority}</dd>` : nothing}
        ${j.submittedBy ? html`<dt>Submitted by</dt><dd>${j.submittedBy}</dd>` : nothing}
      </dl>
      <div class="row">
        <button class="danger" ?disabled=${isFinal(j.status) || j.status === "Stopping"} @click=${() => this.act(() => api.act("jobs", j.name, "stop"), "Stop requested")}>
          Stop
        </button>
        <button ?disabled=${!isFinal(j.status)} @click=${() => this.act(() => api.act("jobs", j.name, "restart"), "Restarted")}>
          Restart
        </button>
      </div>
      <h3>Attempts</h3>
      ${
        j.podStatuses.length === 0
          ? html`<p class="muted">No attempt has started yet.</p>`
          : html`<table id="attempts">
            <thead>
              <tr><th>#</th><th>Status</th><th>Started</th><th>Ended</th><th>Exit code</th><th>Reason</th><th>Whose</th><th></th></tr>
            </thead>
            <tbody>
              ${j.podStatuses.map(
                (p) => html`<tr>
                  <td>${p.podIndex}</td>
                  <td><span class="badge ${p.replicaStatus.status}">${p.replicaStatus.status}</span></td>
                  <td>${when(p.startTime)}</td>
                  <td>${when(p.endTime)}</td>
                  <td>${p.exitCode ?? nothing}</td>
                  <td class="muted">${p.reason ?? ""}${p.statusMessage ? ` (${p.statusMessage})` : ""}</td>
                  <td>${p.failureKind ?? ""}</td>
                  <td><button @click=${() => {
                    this.logAttempt = p.podIndex;
                  }}>Log</button></td>
                </tr>`,
              )}
            </tbody>
          </table>`
      }
      <h3>
        Log
        ${
          this.logAttempt === undefined
            ? nothing
            : html`<button @click=${() => {
                this.logAttempt = undefined;
              }}>latest</button>`
        }
      </h3>
      ${keyed(this.logAttempt ?? "latest", html`<js-log name=${j.name} .attempt=${this.logAttempt}></js-log>`)}`;
  }
}
customElements.define("js-job", JobView);
