// The labelling queue: unknown songs (clusters of the stretches where stations aired them), what
// AcoustID and AudD suggested, and the analysts' decisions (web/API-CONTRACT.md, "Unknown music").
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./client";

export type UnknownState = "open" | "decided" | "all";
export type RejectReason = "not_music" | "not_in_scope";

export interface Candidate {
  provider: "audd" | "acoustid" | "manual";
  title: string;
  artist: string;
  album: string | null;
  label: string | null;
  release_date: string | null;
  isrc: string | null;
  song_link: string | null;
  score: number | null;
}

export interface Unknown {
  id: number;
  airtime_s: number;
  spans: number;
  stations: string[];
  first_seen: string;
  last_seen: string;
  lookup: string;
  lookup_detail: string | null;
  candidates: Candidate[];
  recording: { id: number; external_id: string; title: string; artist: string; source: string } | null;
  decision: "accepted" | "rejected" | "merged" | null;
  decision_reason: RejectReason | null;
  decided_by: string | null;
  decided_at: string | null;
  excerpt_url: string | null;
}

export interface UnknownPage {
  total: number;
  items: Unknown[];
}

export const PAGE_SIZE = 25;

export function useUnknowns(state: UnknownState, page: number) {
  return useQuery({
    queryKey: ["unknowns", state, page],
    queryFn: ({ signal }) =>
      api<UnknownPage>("/api/v1/unknowns", {
        query: { state, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE },
        signal,
      }),
  });
}

export type NameFields = Pick<Candidate, "title" | "artist" | "album" | "label" | "isrc">;

/** An analyst's decision on one unknown song: name it (edit, then accept) or reject it. */
export function useDecide(id: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (
      action: { kind: "accept"; edit?: NameFields } | { kind: "reject"; reason: RejectReason },
    ): Promise<Unknown> => {
      if (action.kind === "reject") {
        return api<Unknown>(`/api/v1/unknowns/${id}/reject`, { method: "POST", json: { reason: action.reason } });
      }
      if (action.edit) await api<Unknown>(`/api/v1/unknowns/${id}`, { method: "PATCH", json: action.edit });
      return api<Unknown>(`/api/v1/unknowns/${id}/accept`, { method: "POST" });
    },
    onSuccess: () => client.invalidateQueries({ queryKey: ["unknowns"] }),
  });
}
