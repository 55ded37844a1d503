// Who may do what. The collector refuses anything a role may not do (403 FORBIDDEN_ROLE);
// the app uses the same table to hide what a person may not use.

export type Role = "admin" | "analyst";

export type Permission =
  | "stations.read" // overview, station pages
  | "plays.read"
  | "plays.flag" // mark a play as a false positive, clear the mark
  | "plays.excerpt" // ask the agent for a play's proof-of-play excerpt
  | "reports.read"
  | "unknowns.decide" // name, correct or reject an unknown song of the labelling queue
  | "reports.generate" // regenerate a period's files
  | "catalog.read"
  | "catalog.write" // add or replace a recording
  | "fleet.read" // stations, agents, users
  | "fleet.write"; // create agents and stations, revoke tokens, pin rates, manage users

const ANALYST: readonly Permission[] = [
  "stations.read",
  "plays.read",
  "plays.flag",
  "plays.excerpt",
  "reports.read",
  "unknowns.decide",
  "reports.generate",
  "catalog.read",
];

// admin may do everything an analyst may (collector.fleet.auth.require_role)
const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  analyst: new Set(ANALYST),
  admin: new Set<Permission>([...ANALYST, "catalog.write", "fleet.read", "fleet.write"]),
};

export function isRole(value: unknown): value is Role {
  return value === "admin" || value === "analyst";
}

export function can(role: Role | null | undefined, permission: Permission): boolean {
  return role != null && GRANTS[role].has(permission);
}
