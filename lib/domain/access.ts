/**
 * Who may do what in which project (OpenPAI virtual-cluster ACLs, Run:AI project roles), from the
 * configuration. A project without a list for an action is open to every caller the API admits.
 */
export interface ProjectAccess {
  name: string;
  /** Principals that may submit to the project (glob patterns, `*` matches any run of characters). */
  submit?: string[];
  /** Principals that may stop, restart, reprioritize and delete its jobs; absent: the `submit` list. */
  stop?: string[];
}

export type ProjectAction = "submit" | "stop";

const globCache = new Map<string, RegExp>();

/** `arn:aws:iam::123456789012:role/team-a-*` style patterns; everything but `*` matches literally. */
export function principalMatches(pattern: string, principal: string): boolean {
  let regex = globCache.get(pattern);
  if (!regex) {
    const body = pattern
      .split("*")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    regex = new RegExp(`^${body}$`);
    globCache.set(pattern, regex);
  }
  return regex.test(principal);
}

/** Whether `principal` may do `action` in `project`. Unknown projects are refused elsewhere (at submit). */
export function mayAct(
  projects: readonly ProjectAccess[],
  project: string,
  principal: string | undefined,
  action: ProjectAction,
): boolean {
  const config = projects.find((candidate) => candidate.name === project);
  if (!config) return true;
  const allowed = action === "stop" ? (config.stop ?? config.submit) : config.submit;
  if (allowed === undefined) return true;
  return principal !== undefined && allowed.some((pattern) => principalMatches(pattern, principal));
}

/** The first of `projects` the principal may not act in, if any. */
export function firstForbidden(
  access: readonly ProjectAccess[],
  projects: readonly string[],
  principal: string | undefined,
  action: ProjectAction,
): string | undefined {
  return projects.find((project) => !mayAct(access, project, principal, action));
}
