// Plays: the filtered list, one play's evidence, the reviewer's false-positive flag, excerpts.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Query } from "./client";
import type { Evidence, ExcerptInfo, PlayFlag, PlayPage } from "./types";

export interface PlayFilters {
  station: string[];
  period: string;
  recording: string;
  artist: string;
  label: string;
  status: "all" | "open" | "final";
  /** reviewers' false-positive flags: all plays, only flagged ones, or none of them */
  flagged: "all" | "yes" | "no";
  page: number;
  pageSize: number;
}

export function playQuery(f: PlayFilters): Query {
  return {
    station: f.station,
    period: f.period,
    recording: f.recording,
    artist: f.artist,
    label: f.label,
    status: f.status === "all" ? undefined : f.status,
    flagged: f.flagged === "all" ? undefined : f.flagged === "yes",
    page: f.page,
    page_size: f.pageSize,
  };
}

export function usePlays(filters: PlayFilters, enabled = true) {
  return useQuery({
    queryKey: ["plays", playQuery(filters)],
    queryFn: ({ signal }) => api<PlayPage>("/api/v1/plays", { query: playQuery(filters), signal }),
    placeholderData: keepPreviousData,
    enabled,
  });
}

export function useEvidence(id: number | null) {
  return useQuery({
    queryKey: ["plays", id, "evidence"],
    queryFn: ({ signal }) => api<Evidence>(`/api/v1/plays/${id}/evidence`, { signal }),
    enabled: id !== null,
    // an excerpt asked of the agent arrives with one of its next uploads: look again meanwhile
    refetchInterval: (query) => (query.state.data?.excerpt.state === "requested" ? 10_000 : false),
  });
}

export function useFlagPlay(id: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (reason: string | null): Promise<PlayFlag | null> => {
      if (reason !== null) return api<PlayFlag>(`/api/v1/plays/${id}/flag`, { method: "PUT", json: { reason } });
      await api<unknown>(`/api/v1/plays/${id}/flag`, { method: "DELETE" });
      return null;
    },
    onSuccess: () => client.invalidateQueries({ queryKey: ["plays"] }),
  });
}

/** Ask the agent that heard the play for its proof-of-play excerpt. */
export function useRequestExcerpt(id: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<ExcerptInfo>(`/api/v1/plays/${id}/excerpt`, { method: "POST" }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["plays", id, "evidence"] }),
  });
}
