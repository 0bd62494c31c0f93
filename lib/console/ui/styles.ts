import { css } from "lit";

/** Shared look of every view: plain tables, status badges, buttons. */
export const shared = css`
  :host {
    display: block;
    font: 14px/1.4 system-ui, sans-serif;
    color: #1d2330;
  }
  a {
    color: #1559b3;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    padding: 0.3rem 0.5rem;
    border-bottom: 1px solid #e3e6eb;
    vertical-align: middle;
  }
  th {
    font-weight: 600;
    color: #555e6e;
    font-size: 12px;
    text-transform: uppercase;
  }
  code {
    font-size: 12px;
  }
  h2 code {
    font-size: 17px;
  }
  button {
    font: inherit;
    padding: 0.2rem 0.7rem;
    border: 1px solid #b9c0cc;
    border-radius: 4px;
    background: #fff;
    cursor: pointer;
  }
  button.danger {
    border-color: #c8372d;
    color: #c8372d;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  input,
  select {
    font: inherit;
    padding: 0.15rem 0.3rem;
  }
  .badge {
    display: inline-block;
    padding: 0 0.5rem;
    border-radius: 9px;
    font-size: 12px;
    font-weight: 600;
    background: #e3e6eb;
  }
  .badge.Succeeded {
    background: #d3f1dc;
    color: #17652f;
  }
  .badge.Failed,
  .badge.DeadlineExceeded {
    background: #fbdad7;
    color: #9c241b;
  }
  .badge.Running,
  .badge.Active {
    background: #d6e6fb;
    color: #16478a;
  }
  .badge.Stopping,
  .badge.Stopped {
    background: #f6e7c8;
    color: #7a5200;
  }
  .muted {
    color: #6b7384;
  }
  .row {
    display: flex;
    gap: 0.6rem;
    align-items: center;
    flex-wrap: wrap;
    margin: 0.6rem 0;
  }
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.2rem 1rem;
  }
  dt {
    color: #6b7384;
  }
  dd {
    margin: 0;
  }
`;
