import { describe, expect, it } from "vitest";
import type { Schedule } from "#lib/config/environment.js";
import { CronError, eventBridgeExpression, nextRun, previousRun } from "#lib/schedules/cron.js";
import { LocalScheduler } from "#lib/schedules/local-scheduler.js";
import type { ScheduledRun } from "#lib/schedules/schedule-input.js";

describe("Kubernetes cron schedules in EventBridge Scheduler's form", () => {
  it.each([
    ["* * * * *", "cron(* * * * ? *)"],
    ["*/5 * * * *", "cron(0/5 * * * ? *)"],
    ["0 9-17 * * 1-5", "cron(0 9-17 ? * MON-FRI *)"],
    ["0 9 * * MON,WED,FRI", "cron(0 9 ? * MON,WED,FRI *)"],
    ["30 2 1,15 * *", "cron(30 2 1,15 * ? *)"],
    ["0 0 * * 0", "cron(0 0 ? * SUN *)"],
    ["0 0 * * 7", "cron(0 0 ? * SUN *)"],
    ["0 0 * JAN-MAR *", "cron(0 0 * 1-3 ? *)"],
    ["15,45 */6 * * *", "cron(15,45 0/6 * * ? *)"],
    ["@daily", "cron(0 0 * * ? *)"],
    ["@hourly", "cron(0 * * * ? *)"],
    ["@weekly", "cron(0 0 ? * SUN *)"],
    ["@monthly", "cron(0 0 1 * ? *)"],
  ])("%s → %s", (schedule, expression) => {
    expect(eventBridgeExpression(schedule, "Europe/Oslo")).toBe(expression);
  });

  it.each([
    ["0 0 1 * 1", "restricts both the day of month and the day of week"],
    ["0 0 0 * * *", "has 6 fields"],
    ["0 0 * * 5L", "L, W, # or H"],
    ["0 0 * * MON#2", "L, W, # or H"],
    ["TZ=UTC 0 0 * * *", "set timeZone instead"],
    ["@reboot", "unknown macro"],
    ["60 * * * *", "not a valid cron schedule"],
  ])("refuses %s", (schedule, message) => {
    expect(() => eventBridgeExpression(schedule)).toThrow(CronError);
    expect(() => eventBridgeExpression(schedule)).toThrow(message);
  });

  it("runs in the schedule's time zone, across a daylight-saving change", () => {
    // Oslo moves to summer time on 2026-03-29 at 02:00 local (01:00 UTC).
    expect(nextRun("0 9 * * *", "Europe/Oslo", new Date("2026-03-28T12:00:00Z")).toISOString()).toBe(
      "2026-03-29T07:00:00.000Z",
    );
    expect(nextRun("0 9 * * *", "Europe/Oslo", new Date("2026-03-27T12:00:00Z")).toISOString()).toBe(
      "2026-03-28T08:00:00.000Z",
    );
    expect(previousRun("*/15 * * * *", "UTC", new Date("2026-03-01T10:14:59Z")).toISOString()).toBe(
      "2026-03-01T10:00:00.000Z",
    );
    expect(previousRun("*/15 * * * *", "UTC", new Date("2026-03-01T10:15:00Z")).toISOString()).toBe(
      "2026-03-01T10:15:00.000Z",
    );
  });
});

describe("the local scheduler", () => {
  const every = (cron: string, name = "s"): Schedule => ({
    name,
    cron,
    timeZone: "UTC",
    concurrencyPolicy: "Allow",
  });

  it("fires each schedule once per due time, for the latest time when the clock jumps, and never early", async () => {
    let now = Date.parse("2026-03-01T10:00:30Z");
    const fired: ScheduledRun[] = [];
    const scheduler = new LocalScheduler({
      schedules: [
        { component: "a", schedule: every("* * * * *", "minutely") },
        { component: "a", schedule: every("0 * * * *", "hourly") },
      ],
      fire: async (run) => fired.push(run),
      now: () => now,
      tickMs: 0,
    });
    await scheduler.tick();
    expect(fired).toEqual([]);
    now = Date.parse("2026-03-01T10:01:00Z");
    await scheduler.tick();
    await scheduler.tick();
    now = Date.parse("2026-03-01T11:05:10Z");
    await scheduler.tick();
    expect(fired.map((run) => `${run.schedule}@${run.scheduledTime}`)).toEqual([
      "minutely@2026-03-01T10:01:00.000Z",
      "minutely@2026-03-01T11:05:00.000Z",
      "hourly@2026-03-01T11:00:00.000Z",
    ]);
    await scheduler.close();
  });
});
