// Agents and users (admin): enrollment codes, token revocation, roles.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Role } from "../auth/roles";
import { api } from "./client";
import type { AgentAdmin, EnrollmentCode, Items, NewToken, Revoked, UserAdmin } from "./types";

const agentPath = (name: string) => `/api/v1/agents/${encodeURIComponent(name)}`;
const userPath = (name: string) => `/api/v1/users/${encodeURIComponent(name)}`;

export function useAgents(enabled = true) {
  return useQuery({
    queryKey: ["agents"],
    queryFn: ({ signal }) => api<Items<AgentAdmin>>("/api/v1/agents", { signal }),
    enabled,
  });
}

function useFleetMutation<I, O>(fn: (input: I) => Promise<O>, key: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => client.invalidateQueries({ queryKey: [key] }),
  });
}

export const useCreateAgent = () =>
  useFleetMutation(
    (input: { name: string; stations: string[] }) =>
      api<EnrollmentCode & { agent: AgentAdmin }>("/api/v1/agents", { method: "POST", json: input }),
    "agents",
  );

export const useNewEnrollmentCode = () =>
  useFleetMutation(
    (name: string) => api<EnrollmentCode>(`${agentPath(name)}/enrollment-codes`, { method: "POST" }),
    "agents",
  );

export const useRevokeAgent = () =>
  useFleetMutation((name: string) => api<Revoked>(`${agentPath(name)}/tokens`, { method: "DELETE" }), "agents");

export function useUsers(enabled = true) {
  return useQuery({
    queryKey: ["users"],
    queryFn: ({ signal }) => api<Items<UserAdmin>>("/api/v1/users", { signal }),
    enabled,
  });
}

export const useCreateUser = () =>
  useFleetMutation(
    (input: { name: string; role: Role }) =>
      api<NewToken & { user: UserAdmin }>("/api/v1/users", { method: "POST", json: input }),
    "users",
  );

export const useSetRole = () =>
  useFleetMutation(
    ({ name, role }: { name: string; role: Role }) =>
      api<UserAdmin>(userPath(name), { method: "PATCH", json: { role } }),
    "users",
  );

export const useNewUserToken = () =>
  useFleetMutation(
    ({ name, revokeOthers }: { name: string; revokeOthers: boolean }) =>
      api<NewToken>(`${userPath(name)}/tokens`, { method: "POST", json: { revoke_others: revokeOthers } }),
    "users",
  );

export const useRevokeUser = () =>
  useFleetMutation((name: string) => api<Revoked>(`${userPath(name)}/tokens`, { method: "DELETE" }), "users");
